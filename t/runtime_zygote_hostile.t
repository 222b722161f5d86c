#!/usr/bin/perl

# A zygote (runtime = python) runs the customer's code: what it imported
# can rewrite the driver in the zygote before any worker is forked. The
# runner talks to it and to its workers over descriptors they hold, and
# must never wait on one of them for longer than it chooses:
# - a worker that keeps its start report pipe open (a zygote's worker
#   never execs, so nothing closes it but the driver) and writes to its
#   stderr: the runner reads the pipe at each stderr event and as the
#   worker is reaped, with a child of it still holding the pipe;
# - a zygote that answers the runner's messages without reading them:
#   they pile up in its socket until the runner's next one does not fit;
# - a zygote that answers every fork a little late (5 ms, each below
#   any one wait's bound): together they are bounded too;
# - a tenant with more Python functions than its max_instances: each
#   zygote is an interpreter with an app loaded, serving nobody, and a
#   tenant has no more of them than its max_instances (the one idle the
#   longest goes for a new one; the tenant's functions taking turns
#   import no more than five times each a change).
# The promise: every other function is answered throughout, the hostile
# one is served (cold, once its zygote is retired), and the runner stays.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

FaasTest::need(-x '/usr/bin/python3', 'python3 (make test-deps)');

my $t = FaasTest->new;

my $plain = "def app(env, start):\n"
            . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
            . "    return [b'calm ok\\n']\n";
$t->function('calm', "runtime = python\napp = c:app\ntenant = calm\n",
             'c.py' => $plain);

# the report pipe kept past the driver's close(3), on 100; each request
# writes to stderr, then answers 0.3 s later (the runner is told of the
# stderr first); ?fork leaves a child that holds the pipe
$t->function('keeper', "runtime = python\napp = k:app\nmax_requests = 1\n"
                 . "tenant = keeper\n",
             'k.py' => "import __main__, os, sys, time\n"
                 . "_worker = __main__.worker\n"
                 . "def worker(fds, env, app, here):\n"
                 . "    os.dup2(fds[3], 100)\n"
                 . "    _worker(fds, env, app, here)\n"
                 . "__main__.worker = worker\n"
                 . "__main__.forget_descriptors = lambda: None\n"
                 . "def app(env, start):\n"
                 . "    if env['QUERY_STRING'] == 'fork' and os.fork() == 0:\n"
                 . "        time.sleep(30)\n"
                 . "        os._exit(0)\n"
                 . "    sys.stderr.write('keeper says something\\n')\n"
                 . "    sys.stderr.flush()\n"
                 . "    time.sleep(0.3)\n"
                 . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
                 . "    return [b'keeper ok\\n']\n");

# its spare waits for the runner's next message (the spares before it
# counted) and answers without reading it, then sleeps (a worker that
# never gets ready); each message carries 800 kB of environment
my $env = join '', map { "env.BIG$_ = " . ('x' x 4000) . "\n" } 1 .. 200;
$t->function('hoarder', "runtime = python\napp = h:app\nmax_requests = 1\n"
                 . "timeout = 1s\ntenant = hoarder\n$env",
             'h.py' => "import __main__, fcntl, os, socket, struct, termios, time\n"
                 . "forked = [0]\n"
                 . "_clone = __main__.clone_parent\n"
                 . "def clone_parent():\n"
                 . "    pid = _clone()\n"
                 . "    forked[0] += pid > 0\n"
                 . "    return pid\n"
                 . "__main__.clone_parent = clone_parent\n"
                 . "def queued(sock):\n"
                 . "    b = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b'\\0' * 4)\n"
                 . "    n = struct.unpack('i', b)[0]\n"
                 . "    if n == 0:\n"
                 . "        return 0\n"
                 . "    return n // sock.recv_into(bytearray(1), 1,\n"
                 . "        socket.MSG_PEEK | socket.MSG_TRUNC)\n"
                 . "def spare(sock, took, app, parent, here):\n"
                 . "    while queued(sock) <= forked[0]:\n"
                 . "        time.sleep(0.002)\n"
                 . "    __main__.reply(sock, os.getpid(), 0)\n"
                 . "    os.write(took, b't')\n"
                 . "    time.sleep(60)\n"
                 . "    os._exit(0)\n"
                 . "__main__.spare = spare\n"
                 . "def app(env, start):\n"
                 . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
                 . "    return [b'hoarder ok\\n']\n");

# every fork answered 5 ms late
$t->function('dawdler', "runtime = python\napp = d:app\nmax_requests = 1\n"
                 . "tenant = dawdler\n",
             'd.py' => "import __main__, time\n"
                 . "_reply = __main__.reply\n"
                 . "def reply(sock, pid, err):\n"
                 . "    if pid > 0:\n"
                 . "        time.sleep(0.005)\n"
                 . "    _reply(sock, pid, err)\n"
                 . "__main__.reply = reply\n"
                 . "def app(env, start):\n"
                 . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
                 . "    return [b'dawdler ok\\n']\n");

# three functions of a tenant allowed two processes at once
for my $m (1 .. 3) {
    $t->function("m$m", "runtime = python\napp = c:app\ntenant = many\n"
                 . "idle_timeout = 1s\n", 'c.py' => $plain);
}

$t->start_runner(conf => "prototype_idle_timeout = 30s\n"
                         . "tenant.many.max_instances = 2\n");
$t->start_nginx($t->faas_location);

# an answer, or an empty one: a runner that hangs fails the test, not perl
sub get { $t->http_get(@_) // { status => 0, body => '' } }

my $calm = sub {
    my $r = get('/fn/calm/', timeout => 5);
    return ($r->{status} // 0) == 200 && $r->{body} eq "calm ok\n";
};

ok($calm->(), 'calm: served');

for my $fn (qw(keeper dawdler)) {
    is(get("/fn/$fn/", timeout => 10)->{body}, "$fn ok\n",
       "$fn: served");
    ok($t->wait_log(qr/zygote \d+ of "$fn" ready/, 30),
       "$fn: its zygote is ready");
}

# --- the report pipe kept open -------------------------------------------

for my $i (1 .. 3) {
    my $q = $i == 2 ? '?fork' : '';
    my $r = get("/fn/keeper/$q", timeout => 10);
    is("$r->{status} $r->{body}", "200 keeper ok\n",
       "keeper ($i$q): a forked worker holding its report pipe is served");
    ok($calm->(), "... and the runner answers others ($i)");
}

like($t->runner_log, qr/keeper says something/,
     "keeper: its stderr reached the runner's log");

# --- messages never read -------------------------------------------------

# each of its workers is one that never gets ready (502, and its start
# throttled): the runner's messages pile up, one a fork, until one does
# not fit
my ($hoarded, $calm_ok, $i) = (0, 0, 0);
my $until = time + 30;

while (!$hoarded && time < $until) {
    get('/fn/hoarder/', timeout => 10);
    $i++;
    $calm_ok++ if $calm->();
    $hoarded = $t->runner_log =~ /prototype \d+ of "hoarder" did not read what/;
    sleep 0.2;
}

ok($hoarded, "a zygote that does not read what it is sent is retired ($i "
   . 'requests)');
is($calm_ok, $i, '... and the runner answered others after each');
ok(FaasTest::wait_for(sub {
       (get('/fn/hoarder/', timeout => 10)->{body} // '')
       eq "hoarder ok\n" }, 15), 'hoarder: then served, cold');

# --- slow by a little, every time ----------------------------------------

my ($held, $n, $bad) = (0, 0, 0);
my $end = time + 60;

while (!$held && $n < 400 && time < $end) {
    my $r = get('/fn/dawdler/', timeout => 10);
    $bad++ unless ($r->{body} // '') eq "dawdler ok\n";
    $n++;
    $held = $t->runner_log =~ /prototype \d+ of "dawdler" held up the runner/;
}

ok($held, "a zygote 5 ms late at each of $n forks is retired");
is($bad, 0, "dawdler: all $n requests served");
ok($calm->(), 'and the runner answers others');
my $made = () = $t->runner_log =~ /zygote \d+ of "dawdler" started/g;
is(get('/fn/dawdler/', timeout => 10)->{body}, "dawdler ok\n",
   'dawdler: served again, cold');
is(scalar(() = $t->runner_log =~ /zygote \d+ of "dawdler" started/g), $made,
   'and its zygote is not made again');

# --- more zygotes than the tenant's max_instances --------------------------

my %zygote;
my $live = sub {
    my @z = $t->runner_log =~ /zygote (\d+) of "(m\d)" ready/g;
    %zygote = ();
    $zygote{$z[$_ + 1]} = $z[$_] for grep { $_ % 2 == 0 } 0 .. $#z;
    return grep { FaasTest::proc_alive($zygote{$_}) } sort keys %zygote;
};

for my $m (1 .. 3) {
    is(get("/fn/m$m/", timeout => 10)->{body}, "calm ok\n",
       "m$m: served");
    ok($t->wait_log(qr/zygote \d+ of "m$m" ready/, 30), "m$m: its zygote");
    ok(FaasTest::wait_for(sub { !$t->workers("m$m") }, 15),
       "m$m: scaled to zero");
}

is(join(' ', $live->()), 'm2 m3', 'the tenant has two zygotes alive, the '
   . 'one idle the longest retired for the third');
my $m1 = $zygote{m1};
like($t->runner_log, qr/zygote $m1 of "m1" retired: tenant "many" has 2/,
     'and the runner says why');
is(get('/fn/m1/', timeout => 10)->{body}, "calm ok\n",
   'm1: served again');
ok($t->wait_log(qr/zygote (?!$m1\b)\d+ of "m1" ready/, 30),
   'm1: a zygote again');
is(scalar(my @l = $live->()), 2, 'still two alive');

# round after round, each zygote retired for the next (m1 and m3 are
# alive, m3 idle the longest: m2, m3, m1 in turn is each time the one
# without): a tenant's functions taking turns cost it imports nobody
# is billed for, so each such start counts among the five a function's
# change allows; past them its workers start cold, and are served
my $served = 0;
for my $round (1 .. 6) {
    for my $m (2, 3, 1) {
        FaasTest::wait_for(sub { !$t->workers("m$m") }, 15);
        $served++ if (get("/fn/m$m/", timeout => 10)->{body} // '')
                     eq "calm ok\n";
        FaasTest::wait_for(sub { !$t->workers("m$m") }, 15);
    }
}
is($served, 18, 'six rounds of three: every request served');
my %starts = map { my $m = $_;
                   ($m => scalar(() = $t->runner_log
                                      =~ /zygote \d+ of "$m" started/g)) }
             qw(m1 m2 m3);
ok(!grep({ $_ > 5 } values %starts) && grep({ $_ == 5 } values %starts),
   'no function\'s zygote made more than five times, and the bound was '
   . 'reached (' . join(' ', map { "$_=$starts{$_}" } sort keys %starts)
   . ')');

$t->done;
done_testing;
