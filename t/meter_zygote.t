#!/usr/bin/perl

# A runtime's zygote (runtime = python) imports the app once and forks
# its workers: what it used was nobody's to bill (an import that burns
# 1.5 s billed 0; a tenant that alternates its functions under its
# limit makes new zygotes at will). Promise: the zygote's own CPU, its
# import, its forks and whatever the app does in it, is its function's
# idle CPU in meter_log (trigger=idle), billed as it burns (each
# meter_idle_interval look), at its kill and at its reap, and once:
# the lines sum to what it used, not more.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

FaasTest::need(-x '/usr/bin/python3', 'python3 (make test-deps)');

my $t = FaasTest->new;
my $p = $t->prefix;
my $meter = "$p/meter.log";

sub app {
    my ($burn) = @_;
    return "import time\n"
         . "t = time.process_time()\n"
         . "while time.process_time() - t < $burn:\n    pass\n"
         . "def application(env, start):\n"
         . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
         . "    return [b'ok\\n']\n";
}

# its import burns 1.5 s of CPU
$t->function('heavy', "runtime = python\napp = app:application\n"
             . "idle_timeout = 1s\n", 'app.py' => app(1.5));
# an import that never ends: killed at the function's timeout
$t->function('endless', "runtime = python\napp = app:application\n"
             . "timeout = 2s\n", 'app.py' => app(1000));

# user root: no prototype, a pid namespace of its own (faas-init's):
# a zygote there would be faas-init's child, its forks never the
# runner's; it was started, retired as one whose app made processes,
# its import unbilled, at each change
$t->function('rootpy', "runtime = python\napp = app:application\n"
             . "user = root\n", 'app.py' => app(0.2));

$t->start_runner(conf => "meter_log = $meter\nmeter_idle_interval = 1s\n");
$t->start_nginx;

sub idle_ms {
    my ($name) = @_;
    my $ms = 0;
    for (split /\n/, (FaasTest::read_file($meter) // '')) {
        $ms += $1 if /function=\Q$name\E .*trigger=idle/ && / cpu=([\d.]+)/;
    }
    return $ms;
}

# the zygote's CPU: of the runner's children that run the app and are
# no worker (the zygote and its spare, which has used next to none),
# the most
sub zygote_cpu_ms {
    my $ms;
    for my $pid (FaasTest::proc_children($t->runner_pid)) {
        my $cmd = FaasTest::read_file("/proc/$pid/cmdline") // next;
        next unless $cmd =~ /python3/ && $cmd =~ /app:application/;
        next if grep { $_ == $pid } $t->workers('heavy');
        my $st = FaasTest::read_file("/proc/$pid/stat") // next;
        $st =~ s/^.*\) //s;
        my @f = split / /, $st;
        my $own = ($f[11] + $f[12]) * 10;
        $ms = $own if !defined $ms || $own > $ms;
    }
    return $ms;
}

my $r = $t->http_get('/fn/heavy');
is($r->{status}, 200, 'heavy answers (its first worker may start cold)');
ok(FaasTest::wait_for(sub { defined zygote_cpu_ms() }, 20),
   'its zygote is up');
my $used = zygote_cpu_ms() // 0;
cmp_ok($used, '>=', 1200, "... having burnt $used ms importing the app");
ok(FaasTest::wait_for(sub { idle_ms('heavy') >= $used * 0.8 }, 10),
   'billed as the function\'s idle CPU: ' . idle_ms('heavy') . ' ms')
    or diag(FaasTest::read_file($meter) // 'no meter_log');
like(FaasTest::read_file($meter) // '',
     qr/function=heavy tenant=\S+ .*trigger=idle/,
     '... a meter_log line of trigger=idle with its tenant');

# served on by its forks: their CPU is theirs, the zygote's stays small
is($t->http_get('/fn/heavy')->{status}, 200, 'a worker forked from it');
sleep 2.5;
my $after = zygote_cpu_ms() // $used;
my $billed = idle_ms('heavy');
cmp_ok($billed, '<=', $after * 1.2 + 150,
       "... once: $billed ms billed of the zygote's $after ms (and its "
       . 'workers\' idle)');

# its reload retires it: what it used since the last look is billed
# at its kill, and not again at its reap
my $before = idle_ms('heavy');
FaasTest::write_file($t->functions_dir . '/heavy/app.py', app(0.3));
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "heavy" changed/), 'a reload changes heavy');
is($t->http_get('/fn/heavy')->{status}, 200, '... which answers anew');
ok(FaasTest::wait_for(sub { idle_ms('heavy') >= $before + 300 * 0.8 }, 10),
   '... its new zygote\'s import billed too: ' . (idle_ms('heavy') - $before)
   . ' ms more');
sleep 2;
cmp_ok(idle_ms('heavy'), '<=', ($after + 300) * 1.2 + 300,
       '... and nothing twice: ' . idle_ms('heavy') . ' ms');

# an import that never ends: killed at its timeout, billed to then
my $t0 = time;
$r = $t->http_get('/fn/endless');
isnt($r->{status}, 200, 'endless: no answer from an import that never '
     . "ends ($r->{status} after " . sprintf('%.1f', time - $t0) . ' s)');
my ($z) = $t->runner_log =~ /zygote (\d+) of "endless" started/;
ok($z, "its zygote ($z) was started");
sub zygote_idle_ms {
    my $ms = 0;
    for (split /\n/, (FaasTest::read_file($meter) // '')) {
        $ms += $1 if /function=endless .* cpu=([\d.]+) .* worker=$z (?x)
                      trigger=idle/;
    }
    return $ms;
}
ok(FaasTest::wait_for(sub { zygote_idle_ms() >= 1500 }, 15),
   '... what it burnt until its kill at the timeout (2 s) billed: '
   . zygote_idle_ms() . ' ms') or diag(FaasTest::read_file($meter) // '');
sleep 1.5;
cmp_ok(zygote_idle_ms(), '<=', 2000 * 1.2 + 100, '... once, not again '
       . 'at its reap');

SKIP: {
    skip 'a pid namespace needs a root runner', 3 if $> != 0;
    is($t->http_get('/fn/rootpy')->{body}, "ok\n", 'user root: served');
    is($t->http_get('/fn/rootpy')->{body}, "ok\n", '... again');
    unlike($t->runner_log, qr/zygote \d+ of "rootpy"/,
           '... by cold workers: no zygote that could serve none started');
}

my $report = `$FaasTest::BUILD/fcgi-runner meter --format csv $meter`;
like($report, qr/^heavy,/m, 'fcgi-runner meter reads the lines');

$t->done;
done_testing;
