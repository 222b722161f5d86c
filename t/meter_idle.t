#!/usr/bin/perl

# A FastCGI worker's CPU between its invocations (a thread that works on
# after the response, its start, a timer): no invocation's, still its
# function's. Promise: it is never billed to the next invocation; once
# it reaches 100 ms it is a meter_log line with trigger=idle (duration
# 0, its CPU, the worker's pid) at the next invocation's start, at the
# worker's end, or at the runner's look every meter_idle_interval (a
# min_instances worker nobody asks that burns from its start is billed
# while it lives), and fcgi-runner meter bills that CPU to the function
# without counting an invocation; a worker that does nothing between
# requests writes no such line.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);

my $t = FaasTest->new;
my $p = $t->prefix;
my $meter = "$p/meter.log";
my $acc = "$p/logs/access.log";
my $fn = FaasTest::testfn();

$t->function('burner', "exec = $fn\nmax_instances = 1\n");
$t->function('idler', "exec = $fn\nmax_instances = 1\nidle_timeout = 3s\n");
$t->function('quiet', "exec = $fn\nmax_instances = 1\n");
$t->function('solo', "exec = $fn\nmax_instances = 1\n");
$t->function('leaver', "exec = $fn\nmax_instances = 1\n");
$t->function('setsid', "exec = $fn\nmax_instances = 1\n");
$t->function('stopper', "exec = $fn\nmax_instances = 1\n");
# no pid namespace (the operator's may say so): orphans are the runner's
# (each of a tenant, so a user, of its own: what a worker leaves outside
# a pid namespace is killed as any worker of its user ends, and another
# function's idle timeout is not to end it as it burns)
$t->function('nopid', "exec = $fn\nmax_instances = 1\nisolation = tmp\n"
             . "tenant = nopid\n");
$t->function('cparent', "exec = $fn\nmax_instances = 1\ntenant = cparent\n");
# a Python app whose import burns 400 ms: its zygote's work, not billed
$t->function('pyimp', "runtime = python\napp = slow:app\n",
             'slow.py' => <<'PY');
import time
t = time.process_time()
while time.process_time() - t < 0.4:
    pass
def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'imported\n']
PY
$t->function('pair', "exec = $fn\nmax_instances = 2\n");
# stock fastcgi_pass asks for no measurements: what it runs is no idle
$t->function('stock', "exec = $fn\nmax_instances = 1\n");

# the operator's own (user = root): no prototype, a faas-init of its
# own; a CGI whose daemon, in a session of its own, burns, then idles on
$t->function('daemon', "exec = ./c.sh\nmode = cgi\nuser = root\n"
                       . "isolation = pid\n", 'c.sh' => <<'SH');
#!/bin/sh
rm -f burnt
setsid sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done
              times > burnt.new; mv burnt.new burnt; exec sleep 100' \
    < /dev/null > /dev/null 2>&1 &
n=0
while [ ! -s burnt ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done
printf 'Content-Type: text/plain\r\n\r\n'
cat burnt
SH
$t->function('phporph', "runtime = php\nscript = index.php\n"
             . "max_instances = 1\nidle_timeout = 60s\n",
             'index.php' => <<'PHP');
<?php
if (($_GET['op'] ?? '') === 'orphan') {
    exec('sh -c \'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; '
         . 'times > /tmp/orphan.times\' > /dev/null 2>&1 &');
    echo "started\n";
} else {
    echo @file_get_contents('/tmp/orphan.times') ?: "none\n";
}
PHP
# a worker kept by min_instances that burns from its start, never asked
$t->function('kept', "exec = $fn\nmin_instances = 1\n"
             . "env.TESTFN_START_BURN_MS = 700\n");

$t->start_runner(conf => "meter_log = $meter\nmeter_idle_interval = 1s\n");
$t->start_metered_nginx("$acc", <<'EOF');
        location /stock/ {
            fastcgi_pass runner;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION stock;
        }
EOF

sub lines {
    my ($file, $fn, $re) = @_;
    return grep { /function=\Q$fn\E / && /$re/ }
           split /\n/, (FaasTest::read_file($file) // '');
}

sub cpu { my ($l) = @_; my ($c) = ($l // '') =~ / cpu=([\d.]+)/; $c // -1 }

# the CPU of a function's idle lines, summed (a burn looked at midway by
# meter_idle_interval is two lines)
sub idle_sum {
    my $sum = 0;
    $sum += cpu($_) for lines($meter, $_[0], qr/trigger=idle /);
    return $sum;
}

# what testfn burns with say=1 says it is done on its stderr (the
# runner's log): a slow machine's CPU time takes its wall time
sub burnt {
    my ($fn, $ms) = @_;
    return FaasTest::wait_for(sub {
        $t->runner_log =~ /"\Q$fn\E" \(pid \d+\) stderr: "testfn: burnt $ms ms/
    }, 30);
}

# never asked, kept alive: billed as it burns, not at an end it never has
ok(FaasTest::wait_for(sub { idle_sum('kept') >= 500 }, 15),
   'a min_instances worker that burns unasked: its CPU in meter_log while '
   . 'it lives (' . idle_sum('kept') . ' ms)')
    or diag(FaasTest::read_file($meter) // 'no meter_log');
my ($kept) = (lines($meter, 'kept', qr/trigger=idle /))[0] =~ / worker=(\d+)/;
ok($kept && kill(0, $kept), "... its worker still alive (pid @{[ $kept // '?' ]})");

# a thread that burns 600 ms after the response; then the next request
is($t->http_get('/fn/burner?op=idleburn&ms=600&say=1')->{body}, "later\n",
   'answered before its thread works');
ok(burnt('burner', 600), '... which says it is done');
is($t->http_get('/fn/burner?op=pid')->{status}, 200, 'the next request');
my @idle = lines($meter, 'burner', qr/trigger=idle /);
cmp_ok(scalar @idle, '>=', 1, 'the CPU between them: in meter_log')
    or diag(FaasTest::read_file($meter) // 'no meter_log');
cmp_ok(idle_sum('burner'), '>=', 400, '... the thread\'s CPU: '
       . idle_sum('burner') . ' ms');
like($idle[0] // '', qr/ outcome=ok duration=0\.000 billed=0\.000 .* worker=\d+ trigger=idle id=-$/,
     '... no duration, no invocation id, the worker');
my @acc = lines($acc, 'burner', qr/ status=200 /);
is(scalar @acc, 2, 'nginx logged both requests');
cmp_ok(cpu($acc[1]), '<', 300, '... the next one not billed for it: '
       . cpu($acc[1]) . ' ms');

# a worker that works on, then scales to zero: said at its end
is($t->http_get('/fn/idler?op=idleburn&ms=600')->{body}, "later\n",
   'a worker that works after its response, then idles out');
ok(FaasTest::wait_for(sub { lines($meter, 'idler', qr/trigger=idle /) }, 15),
   '... its CPU is in meter_log when it ends')
    or diag($t->runner_log);
ok(FaasTest::wait_for(sub { idle_sum('idler') >= 400 }, 15),
   '... all of it: ' . idle_sum('idler') . ' ms');

# a worker that does nothing between requests: no line
$t->http_get('/fn/quiet?op=pid') for 1 .. 20;
is(scalar(lines($meter, 'quiet', qr/./)), 0,
   'twenty requests with nothing between: no idle line');

# invocations nobody meters (stock fastcgi_pass), then one metered: their
# CPU is theirs, not idle
is($t->http_get('/stock/?op=burn&ms=150')->{body}, "burnt\n",
   'stock fastcgi_pass: 150 ms of CPU, unmetered') for 1 .. 2;
is($t->http_get('/fn/stock?op=pid')->{status}, 200, '... then through '
   . 'faas_pass');
$t->http_get('/stock/?op=burn&ms=150');
$t->http_get('/fn/stock?op=pid');
is(scalar(lines($meter, 'stock', qr/trigger=idle /)), 0,
   '... no idle line for what the unmetered invocations used');

# Under a pid namespace the orphans an invocation leaves are reaped by
# the prototype's process 1. With no other worker of the function alive
# their CPU is the invocation's, and only its; with two at once it is no
# one invocation's, and is the function's idle CPU (read once a second
# at most): billed, once.
SKIP: {
    skip 'a pid namespace needs a root runner', 8 if $> != 0;

    # alone: the invocation's, no idle line
    my $r = $t->http_get('/fn/solo?op=orphanburn&ms=300', timeout => 20);
    my ($burnt) = $r->{body} =~ /orphan_ms=(\d+)/;
    sleep 1.2;
    $t->http_get('/fn/solo?op=pid');
    my @solo = lines($acc, 'solo', qr/ status=200 /);
    cmp_ok(cpu($solo[0]), '>=', ($burnt // 300) * 0.8 - 20,
           "an orphan of the only worker: its invocation's ($burnt ms "
           . 'burnt, ' . cpu($solo[0]) . ' ms billed)');
    is(scalar(lines($meter, 'solo', qr/trigger=idle /)), 0,
       '... and not again as idle CPU');

    # the same, and the worker dies with the request: measured as it
    # fails and again at its reap, its orphan billed in both
    is($t->http_get('/fn/solo?op=orphanburn&ms=400&crash=1',
                    timeout => 20)->{status}, 502,
       'an orphan, then a crash: 502');
    ok(FaasTest::wait_for(sub { lines($acc, 'solo', qr/ status=502 /) }, 10),
       '... logged');
    cmp_ok(cpu((lines($acc, 'solo', qr/ status=502 /))[0]), '>=', 300,
           '... its orphan\'s 400 ms billed to it: '
           . cpu((lines($acc, 'solo', qr/ status=502 /))[0]) . ' ms');

    # two workers: one sleeps while the other's orphan burns
    my $sleeper = $t->load_start('/fn/pair?op=sleep&ms=2500', 1);
    sleep 1;
    $r = $t->http_get('/fn/pair?op=orphanburn&ms=400', timeout => 20);
    ($burnt) = $r->{body} =~ /orphan_ms=(\d+)/;
    like(FaasTest::load_result($sleeper), qr/^200=1$/,
         'pair: one worker slept through it');
    sleep 1.2;
    $t->http_get('/fn/pair?op=pid');
    my @pidle = lines($meter, 'pair', qr/trigger=idle /);
    my $idle = 0;
    $idle += cpu($_) for @pidle;
    cmp_ok($idle, '>=', ($burnt // 400) * 0.8 - 20,
           "with another worker alive: the orphan's $burnt ms are the "
           . "function's idle CPU ($idle ms, " . @pidle . ' line(s))')
        or diag(FaasTest::read_file($meter) // 'no meter_log');
    my $all = 0;
    $all += cpu($_) for lines($acc, 'pair', qr/ status=200 /);
    cmp_ok($all + $idle, '<=', ($burnt // 400) * 1.25 + 150,
           "... billed once: $all ms to invocations, $idle ms idle");
}

# A child the worker never waits for burns, then idles on; a reload
# replaces the function's worker and its prototype: the child is killed
# with the worker, reaped by the namespace's process 1, which ends with
# the prototype: what it used is in meter_log then. The same child in a
# session of its own is not killed with the worker: alive when the
# namespace ends, its process 1 kills and reaps it (one killed by the
# kernel as process 1 dies is reaped without a trace).
SKIP: {
    skip 'a pid namespace needs a root runner', 6 if $> != 0;

    for my $c (['leaver', 500, '', 'a worker leaves a child that burns',
                'its prototype replaced at a reload'],
               ['setsid', 300, '&setsid=1',
                'a worker leaves a child in a session of its own that burns',
                'alive at the reload']) {
        my ($name, $ms, $q, $what, $then) = @$c;
        is($t->http_get("/fn/$name?op=bgburn&ms=$ms&say=1$q")->{body},
           "started\n", "$what $ms ms");
        ok(burnt($name, $ms), '... which says it is done');
        $t->function($name, "exec = $fn\nmax_instances = 1\n# changed\n");
        $t->signal_runner('HUP');
        ok(FaasTest::wait_for(sub { idle_sum($name) >= $ms * 0.8 }, 15),
           "... $then: its CPU billed, " . idle_sum($name) . ' ms')
            or diag(FaasTest::read_file($meter) // 'no meter_log');
    }
}

# What the runner reaps that was no worker of its: an orphan outside a
# pid namespace (the runner is the subreaper), a child a worker made the
# runner's (clone(CLONE_PARENT)), in the worker's session or its own:
# its function's idle CPU, billed once
SKIP: {
    skip 'isolation and users need a root runner', 6 if $> != 0;

    for my $c (['nopid', 'op=orphanburn&ms=300',
                'an orphan without a pid namespace'],
               ['cparent', 'op=orphanburn&clone=1&ms=300',
                "a worker's clone(CLONE_PARENT) child"],
               ['cparent', 'op=orphanburn&clone=1&setsid=1&ms=300',
                '... in a session of its own']) {
        my ($name, $q, $what) = @$c;
        my ($before, $calls, $r, $burnt);

        # one in a session of its own is a stray to the idle look's sweep
        # (each second here), which may kill it as it burns: its answer
        # says -1 (that sweep's promise is hostile_daemon_idle.t's); one
        # that lived to its end is what this counts
        for my $try (1 .. 5) {
            $before = idle_sum($name);
            $calls = lines($acc, $name, qr/ status=200 /);
            $r = $t->http_get("/fn/$name?$q", timeout => 20);
            ($burnt) = ($r->{body} // '') =~ /orphan_ms=(\d+)/;
            last if defined $burnt;
            FaasTest::wait_for(sub {
                lines($acc, $name, qr/ status=200 /) > $calls }, 10);
            sleep 1.5;
        }

        ok(FaasTest::wait_for(sub {
               idle_sum($name) - $before >= ($burnt // 300) * 0.8 - 20 }, 10),
           "$what: its function's idle CPU, " . (idle_sum($name) - $before)
           . ' ms of ' . ($burnt // '?'))
            or diag("answer: " . ($r->{status} // '-') . ' '
                    . ($r->{body} // '') . "\n"
                    . (FaasTest::read_file($meter) // 'no meter_log')
                    . join("\n", grep { /\Q$name\E|stray|kill/ }
                                 split /\n/, $t->runner_log));
        FaasTest::wait_for(sub {
            lines($acc, $name, qr/ status=200 /) > $calls }, 10);
        my $billed = cpu((lines($acc, $name, qr/ status=200 /))[-1]);
        cmp_ok($billed, '<', ($burnt // 300) * 0.5,
               "... not its invocation's too ($billed ms)");
    }
}

# A zygote's import is its function's idle CPU (README), once: not
# again when a reload kills the zygote and the runner reaps it
SKIP: {
    skip 'a pid namespace needs a root runner', 5 if $> != 0;

    is($t->http_get('/fn/pyimp', timeout => 30)->{body}, "imported\n",
       'a Python app that burns 400 ms as it is imported');
    my $mark = length $t->runner_log;
    $t->function('pyimp', "runtime = python\napp = slow:app\n# changed\n");
    $t->signal_runner('HUP');
    # the reload first: a request before it is the old zygote's worker's
    # (it failed so in CI: no second import, nothing to bill)
    ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                                =~ /function "pyimp" changed/ }, 10),
       '... changed (SIGHUP)');
    is($t->http_get('/fn/pyimp', timeout => 30)->{body}, "imported\n",
       '... a reload retires its zygote, a new one imports it again');
    ok(FaasTest::wait_for(sub { idle_sum('pyimp') >= 2 * 400 * 0.8 }, 10),
       '... both imports billed as its idle CPU: ' . idle_sum('pyimp')
       . ' ms') or diag((FaasTest::read_file($meter) // 'no meter_log')
                        . join("\n", grep { /pyimp|zygote|prototype/ }
                                     split /\n/, $t->runner_log));
    sleep 1.5;
    cmp_ok(idle_sum('pyimp'), '<', 2 * 400 * 1.2 + 250, '... once: '
           . idle_sum('pyimp') . ' ms');
}

# A worker with a faas-init of its own (no prototype: user = root):
# what it leaves alive is killed and reaped by that faas-init as the
# function ends, so its CPU is in the figure billed to the invocation
SKIP: {
    skip 'a pid namespace needs a root runner', 2 if $> != 0;

    my $r = $t->http_get('/fn/daemon', timeout => 40);
    my ($m, $s) = $r->{body} =~ /^(\d+)m([\d.]+)s/m;
    my $burnt = defined $s ? int(($m * 60 + $s) * 1000) : undef;
    ok($r->{status} == 200 && defined $burnt,
       "a CGI's daemon in a session of its own burnt @{[ $burnt // '?' ]} "
       . 'ms') or diag($r->{body});
    ok(FaasTest::wait_for(sub {
           cpu((lines($acc, 'daemon', qr/ status=200 /))[0])
               >= ($burnt // 300) * 0.8 - 20 }, 10),
       '... killed alive as the CGI ended: its CPU billed to the CGI, '
       . cpu((lines($acc, 'daemon', qr/ status=200 /))[0]) . ' ms')
        or diag($t->runner_log);
}

# A PHP worker is forked by its zygote: what it leaves is reaped by the
# prototype's process 1 under the zygote, and is its function's idle CPU
SKIP: {
    skip 'a pid namespace needs a root runner', 2 if $> != 0;
    skip 'no faas-php (make, with php8.2-dev and libphp8.2-embed)', 2
        unless -x "$FaasTest::BUILD/faas-php";

    is($t->http_get('/fn/phporph?op=orphan', timeout => 30)->{body},
       "started\n", 'a PHP script leaves a process that burns');
    my $burnt;
    FaasTest::wait_for(sub {
        my $b = $t->http_get('/fn/phporph', timeout => 30)->{body} // '';
        if ($b =~ /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s/) {
            $burnt = 1000 * ($1 * 60 + $2 + $3 * 60 + $4);
        }
        sleep 0.3;
        defined $burnt && idle_sum('phporph') >= $burnt * 0.8 - 20;
    }, 20);
    cmp_ok(idle_sum('phporph'), '>=', ($burnt // 300) * 0.8 - 20,
           'its CPU (' . ($burnt // '?') . ' ms) is the function\'s idle CPU: '
           . idle_sum('phporph') . ' ms')
        or diag(FaasTest::read_file($meter) // 'no meter_log');
}

# a child alive as the runner stops: the runner waits (within its
# deadline) for the namespace's process 1 to kill and reap it, and
# bills what it used (checked once the runner is gone, below)
my $stopper = ($> == 0);
if ($stopper) {
    is($t->http_get('/fn/stopper?op=bgburn&ms=300&say=1&setsid=1')->{body},
       "started\n", 'a child in a session of its own, then the runner stops');
    ok(burnt('stopper', 300), '... which says it is done');
}

# billed by fcgi-runner meter, no invocation counted
my $bin = $t->runner_bin_name;
my $rep = eval { decode_json(scalar `$bin meter --format json $acc $meter`) };
my %g = map { ($_->{name} => $_) } @{ $rep->{groups} // [] };
is($g{burner}{invocations}, 2, 'fcgi-runner meter: two invocations of burner')
    or diag(explain($rep));
cmp_ok($g{burner}{cpu_s} // 0, '>=', 0.4, '... and the idle CPU billed');
is($g{burner}{after_response_faults}, 0, '... no fault');

$t->done;

if ($stopper) {
    cmp_ok(idle_sum('stopper'), '>=', 240, '... its CPU billed as the runner '
           . 'stopped: ' . idle_sum('stopper') . ' ms')
        or diag(FaasTest::read_file($meter) // 'no meter_log');
}

done_testing;
