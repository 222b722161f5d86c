#!/usr/bin/perl

# Under "isolation = none", a Python function's zygote imports its app
# while another function of its user (a CGI) leaves a daemon (a double
# fork, setsid: the runner's child once its parent exits, in a session
# of its own) and works on. The look at what the import made out of
# the zygote's session (its pid namespace the host's, its user the
# CGI's) took the daemon for the import's: killed, and the zygote,
# whose app did nothing of the kind, retired, its workers cold until
# the function changes. Promise: with memory cgroups (a root runner),
# the daemon, in the CGI's function's cgroup, is not the zygote's: the
# zygote stays; the daemon goes as the CGI's worker ends.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('users and memory cgroups');

my $t = FaasTest->new;

$t->function('honest', "runtime = python\napp = a:app\nuser = nobody\n"
             . "isolation = none\ntimeout = 20s\n", 'a.py' => <<'EOS');
import time
time.sleep(2)
def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'honest\n']
EOS

# its daemon at once, then 4 s of work: its worker lives meanwhile
$t->function('bg', "exec = ./run.sh\nmode = cgi\nuser = nobody\n"
             . "isolation = none\ntimeout = 20s\n",
             'run.sh' => FaasTest::daemon_script(3651, "sleep 4\n", 'bg'));

$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx($t->faas_location);

sub named { return FaasTest::cmdline_pids(@_) }

SKIP: {
    skip 'no memory cgroups here', 6
        unless $t->wait_log(qr/memory cgroups \(v[12]\) in/, 5);

    my $req = $t->http_start('/fn/honest');
    ok($t->wait_log(qr/zygote \d+ of "honest" started/, 10),
       'the zygote imports');
    is($t->http_get('/fn/bg', timeout => 20)->{body}, "bg\n",
       'the other function answered, its daemon left meanwhile');
    my $r = FaasTest::http_finish($req, timeout => 20);
    is($r && $r->{body}, "honest\n", 'the zygote\'s function answered');
    ok($t->wait_log(qr/zygote \d+ of "honest" ready/, 5),
       'its zygote is ready')
        or diag($t->runner_log);
    unlike($t->runner_log, qr/zygote \d+ of "honest" started processes/,
           '... and not retired for another function\'s daemon');
    ok(FaasTest::wait_for(sub { !named(qr/^sleep\x003651\x00/) }, 10),
       'the daemon goes with its own worker');
}

$t->done;

done_testing;
