#!/usr/bin/perl

# A binary upgrade as nginx's (SIGUSR2): the runner starts its program
# again with its listening socket; once the new runner listens the old
# one finishes what it has and exits 0, and the socket file is the new
# one's. Under load through faas_pass (kept connections) and stock
# fastcgi_pass (a connection per request), no request fails; a request
# in flight finishes on the old runner. A new binary that cannot start,
# or hangs before it listens (killed, with its process group, after
# upgrade_timeout), leaves the old runner serving; a second SIGUSR2
# during an upgrade is refused.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Copy qw(copy);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

# the runners the old one starts outlive it: they come back to us
# (PR_SET_CHILD_SUBREAPER), to be waited for and stopped by pid
syscall(157, 36, 1, 0, 0, 0) == 0 or die "prctl: $!";

my $t = FaasTest->new;
my $fn = $t->testfn;
my $p = $t->prefix;
my $sock = $t->socket_path;

# the runner runs from a copy: the test replaces "the installed binary"
mkdir "$p/sbin";
my $bin = "$p/sbin/fcgi-runner";
copy($t->{runner_bin}, $bin) or die "copy: $!";
chmod 0755, $bin;
# faas-init beside it, as installed
copy("$FaasTest::BUILD/faas-init", "$p/sbin/faas-init") or die "copy: $!";
chmod 0755, "$p/sbin/faas-init";
$t->{runner_bin} = $bin;

$t->function('hello', "exec = $fn\n");
$t->function('slow', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nsleep 1\n"
                         . "printf 'Content-Type: text/plain\\r\\n\\r\\n"
                         . "slow done\\n'\n");

$t->start_runner(conf => "upgrade_timeout = 4s\n");
$t->{port} = FaasTest::free_port();
$t->start_nginx(<<"EOF");
    upstream runner { server unix:$sock; keepalive 16; }
    upstream runner_stock { server unix:$sock; }

    server {
        listen 127.0.0.1:$t->{port};

        location /fn/ {
            faas_route ^/fn/(?<fname>[^/]*)\$ \$fname;
            faas_pass runner;
        }

        location ~ ^/stock/(?<sname>[^/]*)\$ {
            fastcgi_pass runner_stock;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION \$sname;
        }
    }
EOF

is($t->http_get('/fn/hello')->{status}, 200, 'faas_pass serves');
is($t->http_get('/stock/hello')->{status}, 200, 'stock fastcgi_pass serves');

# what the log says after $mark (earlier upgrades said the same)
sub wait_after {
    my ($mark, $re, $secs) = @_;
    return FaasTest::wait_for(sub { substr($t->runner_log, $mark) =~ $re },
                              $secs // 15);
}

sub new_runner_pid {
    my ($after) = @_;
    my ($pid) = substr($t->runner_log, $after)
        =~ /binary upgrade: starting "[^"]*" as (\d+)/;
    return $pid;
}

my @loads = ($t->load_start('/fn/hello', 5), $t->load_start('/stock/hello', 5));
sleep 0.5;
my $slow = $t->http_start('/fn/slow');
sleep 0.2;

my $old = $t->runner_pid;
my $mark = length $t->runner_log;
kill 'USR2', $old;
ok($t->wait_log(qr/binary upgrade: new runner \d+ listening/, 15),
   'SIGUSR2: a new runner listens');
my $new = new_runner_pid($mark);
ok($new && kill(0, $new), "the new runner ($new) runs");
kill 'USR2', $old;
ok($t->wait_log(qr/binary upgrade: one is already under way|(?x)
                   binary\ upgrade:\ not\ while\ stopping/),
   'a second SIGUSR2 meanwhile: refused, logged');

my $sr = FaasTest::http_finish($slow, timeout => 20);
is($sr && $sr->{status}, 200, 'the request in flight finished');
like($sr && $sr->{body}, qr/slow done/, '... whole');

is($t->wait_runner(20), 0, 'the old runner exits 0');
$t->{runner_pid} = $new;

for my $l (@loads) {
    my $res = FaasTest::load_result($l);
    like($res, qr/^200=\d+$/, "every request under the upgrade: 200 ($res)");
}

ok(-S $sock, 'the socket file stays');
is($t->http_get('/fn/hello')->{status}, 200, 'the new runner serves');
like(substr($t->runner_log, $mark),
     qr/listening on "unix:\Q$sock\E \(inherited\)"/,
     'the new runner says where its socket came from');

# a new binary that cannot start: the old one goes on
my $good = "$p/sbin/fcgi-runner.good";
rename $bin, $good or die;
FaasTest::write_file($bin, "#!/bin/sh\necho broken >&2\nexit 3\n");
chmod 0755, $bin;
$mark = length $t->runner_log;
kill 'USR2', $new;
ok(wait_after($mark, qr/binary upgrade failed: the new runner \d+ ended (?x)
                      before\ it\ listened/),
   'a binary that does not start: the upgrade fails, logged');
sleep 0.3;
ok(kill(0, $new), '... the running runner goes on');
is($t->http_get('/fn/hello')->{status}, 200, '... and serves');
my $failed = new_runner_pid($mark);
ok($failed && !kill(0, $failed), '... the failed one is reaped, no zombie');

# a new binary that hangs before it listens, with a child of its own
FaasTest::write_file($bin, "#!/bin/sh\nsleep 600 &\nwait\n");
chmod 0755, $bin;
$mark = length $t->runner_log;
my $began = time;
kill 'USR2', $new;
ok(wait_after($mark, qr/binary upgrade failed: the new runner \d+ did not (?x)
                      listen\ within\ upgrade_timeout\ \(4000\ ms\):
                      \ killed;\ this\ one\ goes\ on/, 30),
   'a binary that hangs: the upgrade fails after upgrade_timeout, logged');
cmp_ok(time - $began, '>=', 3.5, '... not before it');
my $hung = new_runner_pid($mark);
# its group (it and its sleep) gone: reaped by the runner, or by us
ok($hung && FaasTest::wait_for(sub {
       1 while waitpid(-1, WNOHANG) > 0;
       !grep { (FaasTest::read_file($_) // '') =~ /^\d+ \(.*\) [^Z] \d+ $hung /s }
             glob '/proc/[0-9]*/stat' }, 10),
   '... it and what it started are killed, no zombie');
ok(kill(0, $new), '... the running runner goes on');
is($t->http_get('/fn/hello')->{status}, 200, '... and serves');

# and the good binary back: a second upgrade works
rename $good, $bin or die;
$mark = length $t->runner_log;
kill 'USR2', $new;
ok(wait_after($mark, qr/binary upgrade: new runner \d+ listening/),
   'the upgrade again: works');
my $third = new_runner_pid($mark);
my $st;
ok(FaasTest::wait_for(sub { waitpid($new, WNOHANG) == $new
                            and $st = $?, 1 }, 20),
   'the previous runner exits');
is($st, 0, '... with 0');
$t->{runner_pid} = $third;
is($t->http_get('/fn/hello')->{status}, 200, 'the third runner serves');

# stopped while a new runner starts: that one is stopped too, nothing
# is left serving on a socket whose file is gone
rename $bin, $good or die;
FaasTest::write_file($bin, "#!/bin/sh\nsleep 2\nexec $good \"\$@\"\n");
chmod 0755, $bin;
$mark = length $t->runner_log;
kill 'USR2', $third;
ok(wait_after($mark, qr/binary upgrade: starting/), 'an upgrade begins');
my $fourth = new_runner_pid($mark);
kill 'TERM', $third;
ok(wait_after($mark, qr/binary upgrade abandoned: stopping the new (?x)
                         runner\ $fourth/),
   'SIGTERM meanwhile: the upgrade is abandoned, the new runner stopped');
is($t->wait_runner(20), 0, '... the runner exits 0');
# (reaped by the old runner, or by us once it is gone)
ok(FaasTest::wait_for(sub { my $w = waitpid($fourth, WNOHANG);
                            $w == $fourth || ($w == -1 && !kill(0, $fourth)) },
                      10),
   '... and the new one is gone');
rename $good, $bin or die;

$t->done;
ok(!-e $sock, 'the last runner removed the socket file at its exit');
unlike($t->runner_log, qr/\[notice\] $fourth#0: fcgi-runner .* listening/,
       'the abandoned runner never listened');

done_testing;
