#!/usr/bin/perl

# A runner that is not root: every function runs as its user, without
# a pid namespace, and what a worker leaves (a CGI's background job: a
# double fork, setsid) is not swept (fr_sweep_host: its users are its
# own), under isolation = none. A Python function's zygote imports its app while another
# function's job, started meanwhile, runs on. The look at what the
# import made out of the zygote's session took the job for it: killed,
# the honest zygote retired. Promise: the job runs on, the zygote
# stays.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('a runner run as nobody');

my $u = FaasTest->new;
my $up = $u->prefix;
$u->runner_as_nobody;
$u->function('honest', "runtime = python\napp = a:app\ntimeout = 20s\n"
             . "isolation = none\n",
             'a.py' => <<'EOS');
import time
time.sleep(2)
def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'honest\n']
EOS
# a job in the background (a double fork, setsid)
my $bg = $u->function('bg', "exec = ./run.sh\nmode = cgi\n"
                      . "isolation = none\n", 'run.sh' =>
                      FaasTest::daemon_script(3652, "sleep 0.5\n", 'bg'));
system('chown', '-R', 'nobody:nogroup', $up) == 0 or die "chown: $?";
my $text = $u->runner_conf_text("listen_mode = 0666\n"
                                . "limit_isolation = none\n");
$text =~ s/^listen_group = .*\n//m;
{
    no warnings 'redefine';
    *FaasTest::runner_conf_text = sub { $text };
}
$u->start_runner;
$u->start_nginx($u->faas_location);

my $req = $u->http_start('/fn/honest');
ok($u->wait_log(qr/zygote \d+ of "honest" started/, 10), 'the zygote imports');
is($u->http_get('/fn/bg')->{body}, "bg\n", 'a job started in the background');
my $r = FaasTest::http_finish($req, timeout => 20);
is($r && $r->{body}, "honest\n", 'the zygote\'s function answered');
ok($u->wait_log(qr/zygote \d+ of "honest" ready/, 5), 'its zygote is ready');
unlike($u->runner_log, qr/zygote \d+ of "honest" started processes/,
       '... and not retired for another function\'s job');
my @job = grep { (FaasTest::read_file("/proc/$_/cmdline") // '')
                 =~ /^sleep\x003652\x00/ } FaasTest::all_pids();
is(scalar @job, 1, 'the job runs on');
kill 'KILL', @job;

$u->done;

done_testing;
