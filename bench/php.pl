#!/usr/bin/perl

# make bench, the PHP runtime: one PHP script (hello) served by
# runtime = php and by php-fpm, both behind the same nginx.
# - warm: against php-fpm pm = static with as many children as the
#   function's workers, wrk at 2 and 8 connections, interleaved rounds,
#   req/s and p99 of each, and their ratio;
# - the first request after scale to zero (the zygote kept, its workers
#   gone), median of N, against php-fpm pm = ondemand's first request
#   after its children went (pm.process_idle_timeout); beside them the
#   same function with no zygote to fork from (faas-php starts PHP) and
#   php-cgi (exec = php-cgi);
# - the CPU a request costs each side's processes (workers, runner,
#   nginx), the same load at 8 connections;
# - the Pss of a worker and of a php-fpm child after the load.
# Appends its lines to build/bench.txt.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin";
use BenchLib qw(settings wrk median interleaved versus timed_get pss private_kb
                cpu_per_request stop_pids report);
use FaasTest;
use POSIX ();
use Time::HiRes qw(time sleep);
use Test::More ();    # FaasTest reports through it; no plan here

my (undef, $dur, $rounds, $cold_n) = settings();
my $workers = 2;

my $B = $FaasTest::BUILD;
alarm 1800;

my $hello = "<?php\necho \"Hello, world\\n\";\n";

my $t = FaasTest->new(runner => "$B/fcgi-runner");
my $p = $t->prefix;
$t->function('warm', "runtime = php\nscript = index.php\n"
                     . "max_instances = $workers\nidle_timeout = 12s\n"
                     . "max_requests = 0\n", 'index.php' => $hello);
$t->function('cold', "runtime = php\nscript = index.php\n"
                     . "idle_timeout = 200ms\n", 'index.php' => $hello);
# php-cgi, as PHP ran before runtime = php
$t->function('cgi', "exec = php-cgi\nscript = index.php\n"
                    . "idle_timeout = 200ms\n", 'index.php' => $hello);
$t->start_runner(log_level => 'info', conf => "prototype_idle_timeout = 1h\n");

# php-fpm: static with as many children, ondemand for the cold row
mkdir "$p/fpm";
chmod 0755, "$p/fpm";
FaasTest::write_file("$p/fpm/index.php", $hello);
chmod 0644, "$p/fpm/index.php";
# a static pool and an ondemand one, as many children each
FaasTest::write_file("$p/php-fpm.conf", FaasTest::php_fpm_conf($p,
    [ 'static', "$p/fpm-static.sock", "pm = static\npm.max_children = $workers\n" ],
    [ 'ondemand', "$p/fpm-ondemand.sock", "pm = ondemand\n"
      . "pm.max_children = $workers\npm.process_idle_timeout = 1s\n" ]));
my @started;
my $fpid = fork // die "fork: $!";
if ($fpid == 0) {
    POSIX::setsid();
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', "$p/logs/php-fpm.out";
    open STDERR, '>>', "$p/logs/php-fpm.out";
    exec FaasTest::php_fpm_binary(), '-F', '-y', "$p/php-fpm.conf", '-p', $p
        or POSIX::_exit(127);
}
push @started, $fpid;
FaasTest::wait_for(sub { -S "$p/fpm-static.sock" && -S "$p/fpm-ondemand.sock" },
                   30) or die "php-fpm did not start\n";

$t->{port} = FaasTest::free_port();
$t->start_nginx(<<"EOF");
    access_log off;
    upstream runner { server unix:$t->{socket}; keepalive 32; }
    upstream fpm_static { server unix:$p/fpm-static.sock; keepalive 32; }
    upstream fpm_ondemand { server unix:$p/fpm-ondemand.sock; }
    server {
        listen 127.0.0.1:$t->{port} backlog=4096;
        location /faas/ {
            faas_route ^/faas/(?<fn>[a-z]+)(?<path_info>/.*)?\$ \$fn;
            faas_pass runner;
        }
        location = /fpm/static {
            fastcgi_pass fpm_static;
            fastcgi_keep_conn on;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $p/fpm/index.php;
        }
        location = /fpm/ondemand {
            fastcgi_pass fpm_ondemand;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $p/fpm/index.php;
        }
    }
EOF
my $base = "http://127.0.0.1:$t->{port}";

$t->http_get('/faas/warm/');
$t->wait_log(qr/zygote \d+ of "warm" ready/, 30)
    or die "the zygote of warm is not ready\n";
FaasTest::wait_for(sub { !$t->workers('warm') }, 30)
    or die "the cold worker of warm did not go\n";


# --- warm ----------------------------------------------------------------

wrk("$base/faas/warm/", 2, $dur) for 1;
wrk("$base/fpm/static", 2, $dur) for 1;

my %med = interleaved([2, 8], $rounds, $dur, faas => "$base/faas/warm/",
                      fpm => "$base/fpm/static");

# --- CPU a request -------------------------------------------------------

# req/s on two cores is what the processes of a request leave each other;
# the CPU each spends a request says where it goes, steadier than req/s
my $nginx = sub { $t->{nginx_pid}, FaasTest::proc_children($t->{nginx_pid}) };
my %cpu = (
    faas => cpu_per_request("$base/faas/warm/", 8, $dur,
                            workers => sub { $t->workers('warm') },
                            runner => sub { $t->runner_pid },
                            nginx => $nginx),
    fpm => cpu_per_request("$base/fpm/static", 8, $dur,
                           workers => sub { $fpid, pool_children('static') },
                           nginx => $nginx));

# --- memory --------------------------------------------------------------

# each worker's proportional set (shared pages divided among their
# users), after the load: faas's forked from the zygote, php-fpm's from
# its master; both with OPcache's shared memory
sub pool_children {
    my ($pool) = @_;
    return grep { FaasTest::read_file("/proc/$_/cmdline") =~ /pool $pool/ }
           FaasTest::proc_children($fpid);
}
my ($zyg) = $t->runner_log =~ /zygote (\d+) of "warm" ready/;
my @fw = grep { $_ != ($zyg // 0) } $t->workers('warm');
my @pw = pool_children('static');
my $fpss = median(map { pss($_) } @fw);
my $ppss = median(map { pss($_) } @pw);
my $zpss = $zyg ? pss($zyg) : 0;
my $fpriv = median(map { private_kb($_) } @fw);
my $ppriv = median(map { private_kb($_) } @pw);

# --- cold ----------------------------------------------------------------

sub cold {
    my ($fn, $keep) = @_;
    my @s;
    for (1 .. $cold_n) {
        FaasTest::wait_for(sub { $t->workers($fn) <= $keep }, 10);
        sleep 0.05;
        push @s, timed_get($t, "/faas/$fn/");
    }
    return median(@s);
}

timed_get($t, '/faas/cold/');
$t->wait_log(qr/zygote \d+ of "cold" ready/, 30)
    or die "the zygote of cold is not ready\n";
my $cold = cold('cold', 1);
my $cgi = cold('cgi', 0);

my @fs;
for (1 .. $cold_n) {
    # pm.process_idle_timeout = 1s, then php-fpm's reap
    FaasTest::wait_for(sub { !pool_children('ondemand') }, 10);
    sleep 0.05;
    push @fs, timed_get($t, '/fpm/ondemand');
}
my $fpm_cold = median(@fs);

# faas-php's own start, with no zygote: a cold worker's, timed from a
# connect to its first answer, as spawn-fcgi starts it (the sessions'
# folder it makes as root removed after)
my $sess = "/var/lib/php/sessions/faas-$<";
my $had_sess = -e $sess;
my $nozygote = median(map {
    my $port = FaasTest::free_port();
    my $t0 = time;
    my $pid = fork // die;
    if ($pid == 0) {
        exec 'spawn-fcgi', '-n', '-a', '127.0.0.1', '-p', $port, '--',
             "$B/faas-php" or POSIX::_exit(127);
    }
    my $r;
    FaasTest::wait_for(sub {
        $r = `SCRIPT_FILENAME=$p/fpm/index.php REQUEST_METHOD=GET cgi-fcgi -bind -connect 127.0.0.1:$port 2>/dev/null`;
        $r =~ /Hello/;
    }, 10);
    my $dt = (time - $t0) * 1000;
    kill 'TERM', $pid;
    waitpid($pid, 0);
    $dt;
} 1 .. 5);
rmdir $sess if !$had_sess;

# --- report --------------------------------------------------------------

my $out = sprintf "\nPHP runtime: a PHP hello, runtime = php (zygote) against "
                . "php-fpm, %d workers each; wrk -t2 -d%ds, %d round(s), "
                . "medians\n", $workers, $dur, $rounds;
$out .= versus(\%med, [2, 8], 'fpm', 'php-fpm static');
$out .= sprintf "  CPU a request at 8 connections (us): faas workers %.1f + "
              . "runner %.1f + nginx %.1f = %.1f; php-fpm master and "
              . "children %.1f + nginx %.1f = %.1f: faas %.2fx php-fpm's%s\n",
              @{ $cpu{faas} }{qw(workers runner nginx total)},
              @{ $cpu{fpm} }{qw(workers nginx total)},
              $cpu{faas}{total} / ($cpu{fpm}{total} || 1),
              ($cpu{faas}{gone} // '') . ($cpu{fpm}{gone} // '')
              ? " (processes ended during the run: figures low)" : '';
$out .= sprintf "  Pss per worker after the load: faas %.1f MiB (%d workers; "
              . "their zygote %.1f MiB), php-fpm %.1f MiB (%d children): "
              . "%.2fx\n", $fpss / 1024, scalar @fw, $zpss / 1024,
              $ppss / 1024, scalar @pw, $fpss / ($ppss || 1);
$out .= sprintf "  private (Private_Clean + Private_Dirty) per worker: faas "
              . "%.2f MiB, php-fpm %.2f MiB: %.2fx\n", $fpriv / 1024,
              $ppriv / 1024, $fpriv / ($ppriv || 1);
$out .= sprintf "  first request after scale to zero, median of %d (ms): "
              . "runtime = php %.2f; php-fpm ondemand %.2f; exec = php-cgi "
              . "%.2f; faas-php started with no zygote (spawn-fcgi, "
              . "polled) %.2f\n", $cold_n, $cold, $fpm_cold, $cgi, $nozygote;

report($out);

# --- stop exactly what we started ----------------------------------------

stop_pids($t, 'QUIT', @started);
