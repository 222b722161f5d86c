#!/usr/bin/perl

# A binary upgrade (SIGUSR2) of a runner that is not root while a
# Python function's zygote imports its app. The new runner is the old
# one's child, in a session of its own, of the runner's user (every
# function's, not being root), started after the zygote: the look at
# what the import made out of the zygote's session must not take it
# for one. Promise: the new runner lives and serves, the old one exits,
# the zygote stays.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('a runner run as nobody');

# the new runner ours once the old one exits
syscall(157, 36, 1, 0, 0, 0) == 0 or die "prctl: $!";

my $u = FaasTest->new;
my $up = $u->prefix;
$u->runner_as_nobody;
# an import of 3 s: the upgrade happens while it goes on
$u->function('slowimp', "runtime = python\napp = a:app\ntimeout = 20s\n",
             'a.py' => <<'EOF2');
import time
time.sleep(3)
def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'imported\n']
EOF2
system('chown', '-R', 'nobody:nogroup', $up) == 0 or die "chown: $?";
my $text = $u->runner_conf_text("listen_mode = 0666\n");
$text =~ s/^listen_group = .*\n//m;
{
    no warnings 'redefine';
    *FaasTest::runner_conf_text = sub { $text };
}
$u->start_runner;
$u->start_nginx($u->faas_location);

my $req = $u->http_start('/fn/slowimp');
ok($u->wait_log(qr/zygote \d+ of "slowimp" started/, 10),
   'the zygote imports');
my $old = $u->runner_pid;
kill 'USR2', $old;
ok($u->wait_log(qr/binary upgrade: new runner \d+ listening/, 15),
   'SIGUSR2: a new runner listens');
my ($new) = $u->runner_log =~ /binary upgrade: starting "[^"]*" as (\d+)/;
my $r = FaasTest::http_finish($req, timeout => 25);
is($r && $r->{body}, "imported\n", 'the request in flight is answered');
ok($u->wait_log(qr/zygote \d+ of "slowimp" ready/, 10), 'the zygote is ready');
unlike($u->runner_log, qr/process \Q$new\E, made the runner's child/,
       'the new runner is not taken for what the import made');
is($u->wait_runner(25), 0, 'the old runner exits 0');
ok($new && kill(0, $new), "the new runner ($new) lives");
$u->{runner_pid} = $new;
is($u->http_get('/fn/slowimp', timeout => 20)->{body}, "imported\n",
   'the new runner serves');

$u->done;

done_testing;
