#!/usr/bin/perl

# make bench, the Python runtime: one Flask app (hello) served by
# runtime = python and by gunicorn (sync workers, as many as the
# function's), both behind the same nginx.
# - warm: wrk at 2 and 8 connections, interleaved rounds, req/s and
#   p99 of each, and their ratio;
# - the first request after scale to zero (the zygote kept, its workers
#   gone), median of N; beside it the same function with no zygote to
#   fork from (its first request ever: python starts and imports Flask)
#   and `python3 -c pass`.
# Appends its lines to build/bench.txt.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin";
use BenchLib qw(settings wrk median interleaved versus timed_get pss
                stop_pids report);
use FaasTest;
use POSIX ();
use Time::HiRes qw(time sleep);
use Test::More ();    # FaasTest reports through it; no plan here

my (undef, $dur, $rounds, $cold_n) = settings();
my $workers = 2;

my $B = $FaasTest::BUILD;
alarm 1800;

my $app = <<'EOF';
from flask import Flask

app = Flask(__name__)


@app.route('/')
def hello():
    return 'Hello, world\n'
EOF

my $t = FaasTest->new(runner => "$B/fcgi-runner");
# its workers forked from its zygote: the first request starts that (and
# a cold worker, gone after idle_timeout, before the rows)
$t->function('warm', "runtime = python\napp = hello:app\n"
                     . "max_instances = $workers\nidle_timeout = 12s\n"
                     . "max_requests = 0\n", 'hello.py' => $app);
my $dir = $t->function('cold', "runtime = python\napp = hello:app\n"
                               . "idle_timeout = 200ms\n", 'hello.py' => $app);
# one whose zygote is never ready (it is refused: a thread at import), so
# each first request pays python's start and Flask's import
$t->function('nozygote', "runtime = python\napp = hello:app\n"
                         . "idle_timeout = 200ms\n",
             'hello.py' => "import threading, time\n"
                         . "threading.Thread(target=time.sleep, args=(86400,),"
                         . " daemon=True).start()\n$app");
$t->start_runner(log_level => 'info', conf => "prototype_idle_timeout = 1h\n");

my @started;
my $gport = FaasTest::free_port();
my $gpid = fork // die "fork: $!";
if ($gpid == 0) {
    POSIX::setsid();
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', $t->prefix . '/logs/gunicorn.log';
    open STDERR, '>>', $t->prefix . '/logs/gunicorn.log';
    exec '/usr/bin/gunicorn', '--workers', $workers, '--worker-class', 'sync',
         '--bind', "127.0.0.1:$gport", '--chdir', $dir, '--user', 'nobody',
         '--group', 'nogroup', 'hello:app' or POSIX::_exit(127);
}
push @started, $gpid;

$t->{port} = FaasTest::free_port();
$t->start_nginx(<<"EOF");
    access_log off;
    upstream runner { server unix:$t->{socket}; keepalive 32; }
    upstream gunicorn { server 127.0.0.1:$gport; keepalive 32; }
    server {
        listen 127.0.0.1:$t->{port} backlog=4096;
        location /faas/ {
            faas_route ^/faas/(?<fn>[a-z]+)(?<path_info>/.*)?\$ \$fn;
            faas_pass runner;
        }
        location /gunicorn {
            proxy_pass http://gunicorn/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
EOF
my $base = "http://127.0.0.1:$t->{port}";

FaasTest::wait_for(sub {
    IO::Socket::INET->new(PeerAddr => "127.0.0.1:$gport", Timeout => 1)
}, 30) or die "gunicorn did not start\n";
$t->http_get('/faas/warm/');
$t->wait_log(qr/zygote \d+ of "warm" ready/, 30)
    or die "the zygote of warm is not ready\n";
FaasTest::wait_for(sub { !$t->workers('warm') }, 30)
    or die "the cold worker of warm did not go\n";


# --- warm ----------------------------------------------------------------

# a first pass warms both (Flask's first request builds its url map)
wrk("$base/faas/warm/", 2, $dur) for 1;
wrk("$base/gunicorn", 2, $dur) for 1;

my %med = interleaved([2, 8], $rounds, $dur, faas => "$base/faas/warm/",
                      gunicorn => "$base/gunicorn");

# --- memory --------------------------------------------------------------

# each worker's proportional set (shared pages divided among their users),
# after the load above: faas's forked from the zygote, gunicorn's from
# its arbiter (which imports the app in each worker: no preload)
my @fw = $t->workers('warm');
my @gw = FaasTest::proc_children($gpid);
my $fpss = median(map { pss($_) } @fw);
my $gpss = median(map { pss($_) } @gw);
my ($zyg) = $t->runner_log =~ /zygote (\d+) of "warm" ready/;
my $zpss = $zyg ? pss($zyg) : 0;

# --- cold ----------------------------------------------------------------

sub cold {
    my ($fn) = @_;
    my @s;
    for (1 .. $cold_n) {
        # its workers gone (the zygote, if any, stays: its cwd is the
        # folder too, so it is counted apart)
        FaasTest::wait_for(sub { $t->workers($fn) <= ($fn eq 'cold') }, 10);
        sleep 0.05;
        push @s, timed_get($t, "/faas/$fn/");
    }
    return median(@s);
}

timed_get($t, '/faas/cold/');
$t->wait_log(qr/zygote \d+ of "cold" ready/, 30)
    or die "the zygote of cold is not ready\n";
my $cold = cold('cold');
my $nozygote = cold('nozygote');
my $pass = median(map {
    my $t0 = time;
    system('/usr/bin/python3 -c pass');
    (time - $t0) * 1000;
} 1 .. $cold_n);

# --- report --------------------------------------------------------------

my $out = sprintf "\nPython runtime: a Flask hello, runtime = python (zygote) "
                . "against gunicorn sync, %d workers each; wrk -t2 -d%ds, "
                . "%d round(s), medians\n", $workers, $dur, $rounds;
$out .= versus(\%med, [2, 8], 'gunicorn', 'gunicorn');
$out .= sprintf "  Pss per worker after the load: faas %.1f MiB (%d workers; "
              . "their zygote %.1f MiB), gunicorn %.1f MiB (%d workers)\n",
              $fpss / 1024, scalar @fw, $zpss / 1024, $gpss / 1024,
              scalar @gw;
$out .= sprintf "  first request after scale to zero, median of %d (ms): "
              . "from the zygote %.2f; with no zygote (python starts, "
              . "imports Flask) %.2f; python3 -c pass %.2f\n", $cold_n,
              $cold, $nozygote, $pass;

report($out);

# --- stop exactly what we started ----------------------------------------

stop_pids($t, 'TERM', @started);
