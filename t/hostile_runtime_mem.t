#!/usr/bin/perl

# A PHP or Python worker runs as the same user as its function's zygote
# and the function's other workers, in the same pid namespace: had they
# been dumpable (as any process is after its exec), one request could
# open /proc/PID/mem of the zygote and write into it (every later
# worker, after a scale to zero too, forked from what it wrote), or read
# the request another worker is serving (a visitor's cookie). The
# promise: the zygote and the workers forked from it are not dumpable,
# as php-fpm's children are not: no worker opens another's memory, a
# secret held by one is not found by another, and they are served and
# metered as before (the root runner still reads their /proc).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep);

FaasTest::need_root('non-dumpable zygotes');
FaasTest::need(-x '/usr/bin/python3', 'python3 (make test-deps)');
FaasTest::need(-x "$FaasTest::BUILD/faas-php",
               'faas-php (make deps: libphp8.2-embed)');

my $t = FaasTest->new;

# ?hold keeps a visitor's cookie in memory for a while; ?probe opens the
# memory of every other process of its runtime and looks for it
my $py = <<'EOF';
import os, time
def app(env, start):
    q = env.get('QUERY_STRING', '')
    out = []
    if q == 'hold':
        secret = ('held=' + env.get('HTTP_COOKIE', '')).encode()
        time.sleep(3)
        out.append(secret)
    elif q == 'probe':
        me = os.getpid()
        for p in sorted(os.listdir('/proc')):
            if not p.isdigit() or int(p) == me:
                continue
            try:
                cmd = open('/proc/%s/cmdline' % p, 'rb').read()
            except OSError:
                continue
            if b'python3' not in cmd:
                continue
            try:
                with open('/proc/%s/mem' % p, 'r+b', buffering=0) as m:
                    found = False
                    for line in open('/proc/%s/maps' % p):
                        lo, hi = (int(x, 16) for x in line.split()[0].split('-'))
                        if 'rw' not in line.split()[1] or hi - lo > 64 << 20:
                            continue
                        try:
                            m.seek(lo)
                            found = found or b'SECRETVISITOR' in m.read(hi - lo)
                        except OSError:
                            pass
                out.append(b'%s:opened:%s' % (p.encode(), b'found' if found else b'-'))
            except OSError as e:
                out.append(b'%s:errno%d' % (p.encode(), e.errno))
    out.append(b'pid=%d' % os.getpid())
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'\n'.join(out) + b'\n']
EOF

my $php = <<'EOF';
<?php
$q = $_SERVER['QUERY_STRING'] ?? '';
if ($q === 'hold') {
    $secret = 'held=' . ($_SERVER['HTTP_COOKIE'] ?? '');
    sleep(3);
    echo $secret, "\n";
} elseif ($q === 'probe') {
    foreach (glob('/proc/[0-9]*') as $d) {
        $pid = (int) basename($d);
        if ($pid == getmypid()) continue;
        $cmd = @file_get_contents("$d/cmdline");
        if ($cmd === false || strpos($cmd, 'faas-php') === false) continue;
        $f = @fopen("$d/mem", 'r+b');
        echo $pid, $f ? ':opened' : ':denied', "\n";
    }
}
echo 'pid=', getmypid(), "\n";
EOF

$t->function('pyvic', "runtime = python\napp = a:app\nmax_instances = 3\n",
             'a.py' => $py);
$t->function('phpvic', "runtime = php\nscript = p.php\nmax_instances = 3\n",
             'p.php' => $php);

my $log = $t->prefix . '/logs/faas.log';
$t->start_runner;
$t->start_nginx(FaasTest::meter_log_format()
                . $t->faas_location(location => "access_log $log faas_meter;"));

for my $fn ('pyvic', 'phpvic') {
    is($t->http_get("/fn/$fn/")->{status}, 200, "$fn: served (zygote ready)");

    # a visitor's request held by one worker while another probes
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:" . $t->port,
                                  Timeout => 10) or die "connect: $!";
    print $s "GET /fn/$fn/?hold HTTP/1.0\r\nHost: x\r\n"
             . "Cookie: S=SECRETVISITOR42\r\n\r\n";
    sleep 0.5;

    my $r = $t->http_get("/fn/$fn/?probe");
    is($r->{status}, 200, "$fn: the probe answered");
    my @seen = grep { /^\d+:/ } split /\n/, $r->{body};
    cmp_ok(scalar @seen, '>=', 2, "$fn: it saw its zygote and another "
           . 'worker at least') or diag($r->{body});
    is(scalar(grep { !/:(errno13|denied)$/ } @seen), 0,
       "$fn: none of their memory opened") or diag($r->{body});
    unlike($r->{body}, qr/found/, "$fn: the visitor's cookie not read");

    my $held = '';
    local $/;
    $held = <$s> // '' if $s;
    like($held, qr/held=S=SECRETVISITOR42/, "$fn: the visitor served");

    # a worker after the probe forks from an untouched zygote
    is($t->http_get("/fn/$fn/")->{status}, 200, "$fn: served after");
}

# metered as before: the root runner reads non-dumpable workers' /proc
my @lines;
FaasTest::wait_for(sub {
    @lines = grep { /outcome=ok/ } split /\n/, FaasTest::read_file($log) // '';
    @lines >= 8 }, 10);
for my $fn ('pyvic', 'phpvic') {
    my @l = grep { /function=$fn / } @lines;
    cmp_ok(scalar @l, '>=', 4, "$fn: each request metered");
    is(scalar(grep { !/ memory=\d+ / } @l), 0,
       "$fn: with its peak memory") or diag(join "\n", @l);
}

$t->done;

# a runner that is not root: no -p, the workers dumpable (all run as the
# runner's user, which reads their /proc as them): a worker's peak
# memory is still its invocation's (clear_refs, which a non-dumpable
# process's root-owned /proc file refused it)
{
    my $u = FaasTest->new;
    my $up = $u->prefix;
    $u->runner_as_nobody;
    $u->function('pybig', "runtime = python\napp = a:app\n", 'a.py' => <<'EOF');
def app(env, start):
    if env.get('QUERY_STRING') == 'big':
        b = bytearray(100 << 20)
        for i in range(0, len(b), 4096):
            b[i] = 1
        del b
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok\n']
EOF
    my $ulog = "$up/logs/faas.log";
    system('chown', '-R', 'nobody:nogroup', $up) == 0 or die "chown: $?";
    # its config: no listen_group (a root test's), which it cannot chown
    my $text = $u->runner_conf_text("listen_mode = 0666\n");
    $text =~ s/^listen_group = .*\n//m;
    no warnings 'redefine';
    local *FaasTest::runner_conf_text = sub { $text };
    $u->start_runner;
    $u->start_metered_nginx($ulog);
    my @m;
    for my $q ('big', 'small', 'small') {
        is($u->http_get("/fn/pybig?$q")->{status}, 200,
           "not root: ?$q served");
        push @m, FaasTest::log_line($ulog, scalar @m + 1)->{memory} // 0;
    }
    cmp_ok($m[0], '>', 100_000, "not root: the big one's peak ($m[0] KB)");
    cmp_ok($m[2], '<', 50_000, "... the next ones' their own ($m[2] KB)");
    $u->done;
}

done_testing;
