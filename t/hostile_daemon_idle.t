#!/usr/bin/perl

# A daemon left in a function's pid namespace (setsid and a double
# fork: an orphan of its process 1, in no worker's session) is killed
# when one of the function's workers ends. A function whose workers
# never end (min_instances, max_requests = 0) had none: the daemon a
# worker made, or one a Python app's import made (out of its zygote's
# session and children, so the zygote's own look missed it), worked on
# unbilled for as long as it liked. The promise: such a daemon is
# killed within a meter_idle_interval or two, what it burnt billed in
# meter_log (trigger=idle), the worker that made it left alone and
# serving.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('pid namespaces');
FaasTest::need(-x '/usr/bin/python3', 'python3 (make test-deps)');

my $t = FaasTest->new;
my $fn = $t->testfn;
my $mlog = $t->prefix . '/logs/meter.log';

$t->function('keeper', "exec = $fn\nmin_instances = 1\nmax_requests = 0\n");
# more daemons than a sweep holds (256): its prototype retired, its
# worker lives on, and so would the rest
$t->function('crowd', "exec = $fn\nmin_instances = 1\nmax_requests = 0\n"
             . "max_processes = 400\n");

$t->function('importer', "runtime = python\napp = a:app\nmin_instances = 1\n"
             . "max_requests = 0\n", 'a.py' => <<'EOF');
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass
        os.execv('/bin/sleep', ['sleep', '3602'])
    os._exit(0)
os.wait()

def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'importer %d\n' % os.getpid()]
EOF

$t->start_runner(conf => "meter_log = $mlog\nmeter_idle_interval = 1s\n");
$t->start_nginx($t->faas_location);

sub sleepers {
    return grep { (FaasTest::read_file("/proc/$_/cmdline") // '')
                  eq "sleep\0003602\0" } FaasTest::all_pids();
}

# of this test's functions (another test's, run beside it, are not)
sub named {
    my ($comm) = @_;
    my $dir = $t->functions_dir;
    return grep { (FaasTest::read_file("/proc/$_/comm") // '') eq "$comm\n"
                  && index(FaasTest::proc_cwd($_), $dir) == 0 }
           FaasTest::all_pids();
}

sub idle_cpu {
    my ($name) = @_;
    my $cpu = 0;
    for (split /\n/, FaasTest::read_file($mlog) // '') {
        $cpu += $1 if /function=$name .*trigger=idle/ && / cpu=([\d.]+)/;
    }
    return $cpu;
}

# --- a worker's daemon -------------------------------------------------------

my $r = $t->http_get('/fn/keeper?op=pid');
is($r->{status}, 200, 'keeper: served');
my ($wpid) = $r->{body} =~ /(\d+)/;
$r = $t->http_get('/fn/keeper?op=bgburn&setsid=1&orphan=1&ms=400');
is($r->{body}, "started\n", 'keeper: a daemon started (400 ms of CPU)');

my $testfn = substr((split m{/}, $fn)[-1], 0, 15);
is(scalar $t->workers('keeper'), 1, 'keeper: one worker');
# the daemon: a process of the function's program that is no worker, as
# they are at each look (crowd's, for min_instances, may still be on
# its way at the first)
my $daemons = sub {
    my %worker = map { $_ => 1 } $t->workers('keeper'), $t->workers('crowd');
    return grep { !$worker{$_} } named($testfn);
};
ok(FaasTest::wait_for(sub { $daemons->() }, 5), '... the daemon seen');
ok(FaasTest::wait_for(sub { !$daemons->() }, 15),
   'keeper: the daemon is killed, its workers never ending')
    or diag(join ' ', $daemons->());
ok(FaasTest::wait_for(sub { idle_cpu('keeper') >= 300 }, 10),
   'keeper: what it burnt billed in meter_log (trigger=idle, '
   . idle_cpu('keeper') . ' ms)') or diag(FaasTest::read_file($mlog));
$r = $t->http_get('/fn/keeper?op=pid');
is($r->{status}, 200, 'keeper: served after');
like($r->{body}, qr/\b$wpid\b/, '... by the same worker, left alone');

# --- more than a sweep holds -----------------------------------------------

my $crowd = $daemons;
$r = $t->http_get('/fn/crowd?op=bgburn&setsid=1&orphan=1&count=300&ms=0',
                  timeout => 30);
is($r->{body}, "started\n", 'crowd: 300 daemons started');
ok(FaasTest::wait_for(sub { !$crowd->() }, 20),
   '... all killed, a sweep of 256 at a time')
    or diag(scalar($crowd->()) . ' left');
is($t->http_get('/fn/crowd?op=pid')->{status}, 200, 'crowd: served after');

# --- an app's import's daemon ---------------------------------------------------

$r = $t->http_get('/fn/importer/');
like($r->{body}, qr/^importer \d+$/, 'importer: served');
# (made at the load, for min_instances: killed by now, or soon)
ok(FaasTest::wait_for(sub { !sleepers() }, 15),
   "importer: its import's daemon killed, its workers never ending")
    or diag(join ' ', sleepers());
ok(FaasTest::wait_for(sub { idle_cpu('importer') >= 200 }, 10),
   '... what it burnt billed (' . idle_cpu('importer') . ' ms)')
    or diag(FaasTest::read_file($mlog));
like($t->http_get('/fn/importer/')->{body}, qr/^importer \d+$/,
     'importer: served after');

like($t->runner_log, qr/killing process \d+ left behind/,
     'said in the log');
# once each: a zygote's namespace is its prototype's, swept once a look
# (it was swept for both: each daemon killed and said twice)
my $log = $t->runner_log;
my %said;
$said{$1}++ while $log =~ /killing process (\d+) left behind/g;
my @twice = grep { $said{$_} > 1 } sort keys %said;
is("@twice", '', 'no process said killed twice (' . scalar(keys %said)
   . ' said)');

$t->done;
done_testing;
