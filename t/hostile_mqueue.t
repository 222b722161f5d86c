#!/usr/bin/perl

# POSIX message queues: a host with /dev/mqueue mounted (systemd mounts
# it, mode 1777) shows there the queues of the host's IPC namespace, to
# anyone. A function under "ipc" isolation (with a mount namespace: tmp
# or pid, the default) has its own IPC namespace; the mount it sees must
# be its namespace's too. Promise: a queue one function makes through
# /dev/mqueue is its own: another function does not see it, the host
# does not get it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('mounting /dev/mqueue, isolation');

my $t = FaasTest->new;

# the host's /dev/mqueue, as systemd has it (mounted here if it is not,
# and taken away again at the end)
my $made = 0;
unless (`findmnt -n -o FSTYPE /dev/mqueue 2>/dev/null` =~ /mqueue/) {
    my $dir = -d '/dev/mqueue' ? 0 : mkdir('/dev/mqueue');
    $made = $dir ? 2 : 1;
    # (its root is 1777 as systemd's)
    system('mount', '-t', 'mqueue', 'mqueue', '/dev/mqueue') == 0
        or BAIL_OUT('cannot mount mqueue on /dev/mqueue');
    $made += 2;
}
END {
    system('umount', '/dev/mqueue') if $made >= 3;
    rmdir '/dev/mqueue' if $made == 2 || $made == 4;
}

my $name = "faas-mq-$$";
$t->function('mqa', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<"EOF");
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
touch /dev/mqueue/$name && echo made
ls /dev/mqueue
EOF
$t->function('mqb', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<"EOF");
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
ls /dev/mqueue
echo end
EOF

$t->start_runner;
$t->start_nginx($t->faas_location);

my $r = $t->http_get('/fn/mqa');
like($r->{body}, qr/^made\n\Q$name\E$/m,
     'a function makes a queue in /dev/mqueue: its own there');
ok(!-e "/dev/mqueue/$name", '... not in the host\'s');
$r = $t->http_get('/fn/mqb');
unlike($r->{body}, qr/\Q$name\E/, 'another function does not see it');
like($r->{body}, qr/end/, '... (it ran)');
$r = $t->http_get('/fn/mqa');
like($r->{body}, qr/^\Q$name\E$/m, 'the function sees its own again');

unlink "/dev/mqueue/$name";
$t->done;
done_testing;
