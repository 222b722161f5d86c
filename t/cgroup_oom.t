#!/usr/bin/perl

# The OOM killer's choice among a function's processes. It goes by
# resident memory: a worker that holds its memory where none of it is
# resident (unix socket buffers) is smaller than the prototype it was
# forked from, and the prototype was killed at each request (a hostile
# pass: 12 of 12), freeing nothing of the worker's, its function paying
# a new one and the log two error lines each time. Promise: a worker
# forked from a prototype scores 100 above the runner (oom_score_adj),
# the prototype and its namespace's reaper keep the runner's score; in
# an OOM of the function's memory cgroup the worker goes, the prototype
# stays; a function cannot set its score below the runner's. The same a
# level down for a runtime: its workers score 100 above its zygote.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root();

my $t = FaasTest->new;
my $fill = $t->program("$FaasTest::BUILD/t/sockfill");

# 32M, one instance: its memory cgroup holds 96M
$t->function('fill', "exec = $fill\nmode = cgi\nmemory = 32M\n"
             . "max_instances = 1\n");
$t->function('other', "exec = $fill\nmode = cgi\ntenant = other\n");

# a runtime's: its workers are forks of its zygote, a worker of the
# prototype; one that fills socket buffers got the zygote killed
my $app = <<'PY';
import os, socket, time
def application(env, start):
    adj = open('/proc/self/oom_score_adj').read().strip()
    start('200 OK', [('Content-Type', 'text/plain')])
    yield ('adj %s\n' % adj).encode()
    if 'fill' in env.get('QUERY_STRING', ''):
        keep, page, total = [], b'x' * 16384, 0
        while total < (600 << 20) and len(keep) < 3900:
            a, b = socket.socketpair()
            a.setblocking(False)
            keep.append((a, b))
            try:
                while True:
                    total += a.send(page)
            except BlockingIOError:
                pass
        time.sleep(10)
PY
$t->function('py', "runtime = python\napp = app:application\n"
             . "memory = 64M\nmax_instances = 1\nmax_files = 8192\n",
             'app.py' => $app);

$t->start_runner;
$t->start_nginx;

my $rp = $t->runner_pid;

sub score {
    my $s = FaasTest::read_file("/proc/$_[0]/oom_score_adj") // 'gone';
    return $s =~ s/\s+//gr;
}

sub prototypes {
    return grep {
        (FaasTest::read_file("/proc/$_/cmdline") // '')
            =~ /^faas-init\0prototype\0/
    } FaasTest::proc_children($rp);
}

my $own = score($rp);
my $worker = $own + 100 > 1000 ? 1000 : $own + 100;

# 1. the scores
my $r = $t->http_get('/fn/fill');
is($r->{status}, 200, 'the function answers');
is($r->{body}, "adj $worker to -\n",
   "a worker forked from its prototype scores 100 above the runner "
   . "($own): $worker");

my @protos = prototypes();
my ($proto) = $t->runner_log =~ /prototype (\d+) of "fill" started/;
ok($proto && grep($_ == $proto, @protos),
   "its prototype ($proto) is the runner's child");

# the worker's score was the prototype's until its exec (one memory):
# taken back once none shares it
ok(FaasTest::wait_for(sub {
       join(',', map { score($_) } prototypes())
           eq join(',', ($own) x @protos)
   }, 10),
   'the prototypes (and their reapers) are back at the runner\'s score: '
   . join(' ', map { "$_=" . score($_) } prototypes()));

# 2. a function lowering its own: never below the runner's
$r = $t->http_get('/fn/fill?to=' . ($own - 1));
like($r->{body}, qr/^adj \Q$worker\E to Permission denied$/m,
     'a function cannot set its score below the runner\'s');

$r = $t->http_get('/fn/fill?to=1000');
is($r->{body}, "adj 1000 to ok\n", '... above it, it may');

ok(FaasTest::wait_for(sub { score($proto) eq $own }, 10),
   '... and its prototype\'s stays the runner\'s: ' . score($proto));

# 3. an OOM of the function's memory cgroup: the worker goes
my ($cg) = $t->runner_log =~ /memory cgroups \(v\d\) in "([^"]+)"/;

SKIP: {
skip 'no memory cgroup on this host', 16 unless $cg;

my ($dir) = glob("$cg/t.*/f.fill");
ok($dir && -d $dir, "the function's memory cgroup: " . ($dir // '-'));

my $v2 = -f "$dir/cgroup.controllers";
my $events = $v2 ? 'memory.events' : 'memory.oom_control';

sub oom_kills {
    my $s = FaasTest::read_file("$dir/$events") // '';
    return $s =~ /^oom_kill (\d+)/m ? $1 : 0;
}

my $before = oom_kills();
my $answered = 0;

for my $round (1 .. 4) {
    # 200 MB of socket buffers against 96M: the kernel stops someone
    my $a = $t->http_get('/fn/fill?fill=200', timeout => 30);
    $answered++ if ($a->{status} // 0) == 200
                   && ($a->{body} // '') =~ /^adj \Q$worker\E to -/;
}

is($answered, 4, 'each request answered, its header first');
cmp_ok(oom_kills() - $before, '>=', 4,
       'each filled the cgroup: the kernel killed (oom_kill '
       . oom_kills() . ')');

my $log = $t->runner_log;
my @started = $log =~ /prototype \d+ of "fill" started/g;
is(scalar @started, 1, 'one prototype all along');
unlike($log, qr/prototype \d+ of "fill" exited/,
       '... never killed: no "prototype ... exited" line');
ok(FaasTest::proc_alive($proto), "... the same one, $proto, alive");
my @killed = $log =~ /CGI function "fill" \(pid \d+\) exited on signal 9/g;
cmp_ok(scalar @killed, '>=', 4, 'the workers were the ones killed');

$r = $t->http_get('/fn/fill');
is($r->{body}, "adj $worker to -\n", 'the function serves on, from it');

# the runtime's zygote: its workers 100 above it
my $zworker = $worker + 100 > 1000 ? 1000 : $worker + 100;
$r = $t->http_get('/fn/py');
is($r->{body}, "adj $zworker\n",
   "a runtime's worker scores 100 above its zygote: $zworker");
my ($zygote) = $t->runner_log =~ /zygote (\d+) of "py" started/;
ok($zygote, "its zygote: " . ($zygote // '-'));
is(score($zygote), $worker, '... which scores as a worker of the prototype');

($dir) = glob("$cg/t.*/f.py");
$before = oom_kills();
my $zanswered = 0;

for my $round (1 .. 3) {
    my $a = $t->http_get('/fn/py?fill=1', timeout => 30);
    $zanswered++ if ($a->{body} // '') =~ /^adj \Q$zworker\E$/m;
}

is($zanswered, 3, 'three requests filling the cgroup answered, header '
   . 'first');
cmp_ok(oom_kills() - $before, '>=', 3, 'each filled it: oom_kill '
       . oom_kills());
$log = $t->runner_log;
my @zygotes = $log =~ /zygote \d+ of "py" started/g;
is(scalar @zygotes, 1, 'one zygote all along');
ok(FaasTest::proc_alive($zygote), "... the same one, $zygote, alive");
unlike($log, qr/prototype $zygote of "py" exited/, '... never killed');
}

is($t->http_get('/fn/other')->{status}, 200, 'another tenant\'s too');

$t->done;
done_testing();
