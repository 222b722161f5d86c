#!/usr/bin/perl

# make bench: ngx_faas beside what users run today, in one run, on this
# machine. One nginx (1 worker, access_log off) serves every row from its
# own location; each competitor is started here on loopback or a unix
# socket, under a temporary prefix, and stopped by pid. Rows are measured
# in interleaved rounds (A B A B ...) and the medians reported, with each
# row's ratio to its direct competitor from the same run.
#
# BENCH_QUICK=1: one short round, for a smoke run (not a gate).
# BENCH_DURATION, BENCH_ROUNDS, BENCH_CONNS override the defaults;
# BENCH_ROWS=c,c-spawn measures only those rows ("cpu": the CPU a
# request, beside them).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../t/lib", $FindBin::Bin;
use BenchLib qw(cpu_per_request);
use FaasTest;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);
use Test::More ();    # FaasTest reports through it; no plan here

my $quick = $ENV{BENCH_QUICK};
my $dur = $ENV{BENCH_DURATION} // ($quick ? 2 : 8);
my $rounds = $ENV{BENCH_ROUNDS} // ($quick ? 1 : 3);
my $conns = $ENV{BENCH_CONNS} // 32;
my $cold_n = $quick ? 5 : 15;

my $B = $FaasTest::BUILD;
my $root = $FaasTest::ROOT;

-x "$B/bench/hello-cgi" or die "build first: make bench\n";

# the harness bounds a test file; the bench runs longer, bounded here
alarm 3600;

# measured: the plain runner, not the tests' sanitizer build
my $t = FaasTest->new(runner => "$B/fcgi-runner");
my $p = $t->prefix;
my @started;

# each competitor in a session of its own: its whole process group is
# stopped at the end (fcgiwrap -c and php-fpm fork children that the
# parent's pid alone does not reach)
sub spawn {
    my ($log, @cmd) = @_;
    my $pid = fork // die;
    if ($pid == 0) {
        POSIX::setsid();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$p/logs/$log";
        open STDERR, '>>', "$p/logs/$log";
        exec @cmd or POSIX::_exit(127);
    }
    push @started, $pid;
    return $pid;
}

sub wait_sock {
    my ($path) = @_;
    FaasTest::wait_for(sub { -S $path }, 10) or die "no $path\n";
    chmod 0666, $path;
}

# --- functions for the runner --------------------------------------------

# throughput rows against always-warm competitors (pm = static, spawn-fcgi)
# keep their workers warm too; the cold rows below measure scaling from 0
$t->function('hello', "exec = $B/functions/hello/hello\n"
                      . "max_instances = 4\nmin_instances = 4\n"
                      . "max_requests = 0\n");
# the same without isolation: what the default isolation costs warm
$t->function('hello-none', "exec = $B/functions/hello/hello\n"
                           . "max_instances = 4\nmin_instances = 4\n"
                           . "max_requests = 0\nisolation = none\n");
# 1000 clients at once: the queue admits them all, so any error counts
$t->function('hello-q', "exec = $B/functions/hello/hello\n"
                        . "max_instances = 4\nmax_requests = 0\nqueue = 1024\n");
$t->function('hello-php', "exec = php-cgi\nscript = index.php\n"
                          . "max_instances = 4\nmin_instances = 4\n"
                          . "max_requests = 0\nmemory = 512M\n",
             'index.php' => "<?php\necho \"Hello, world\\n\";\n");
# the same script on the PHP runtime: workers forked from its zygote
$t->function('hello-rt', "runtime = php\nscript = index.php\n"
                         . "max_instances = 4\nmin_instances = 4\n"
                         . "max_requests = 0\nmemory = 512M\n",
             'index.php' => "<?php\necho \"Hello, world\\n\";\n");
# asynchronous: accepted (the store), then run by a C worker; and a CGI
# that notes when it starts, for the time from 202 to start
$t->function('evt', "exec = $B/functions/hello/hello\n");
my $stamps = $t->function('evts', "exec = ./run.sh\nmode = cgi\n",
                          'run.sh' => "#!/bin/sh\ndate +%s.%N >> out/t\n"
                                    . "printf 'Content-Type: text/plain"
                                    . "\\r\\n\\r\\nok\\n'\n");
mkdir "$stamps/out";
chmod 0777, "$stamps/out";

# CGI with a root runner's default isolation (tmp pid ipc), and without
for my $iso ('', 'none') {
    my $sfx = $iso ? "-$iso" : '';
    my $conf = "mode = cgi\nmax_instances = 32\n"
               . ($iso ? "isolation = $iso\n" : '');
    $t->function("cgi-c$sfx", "exec = $B/bench/hello-cgi\n$conf");
    $t->function("cgi-sh$sfx", "exec = ./hello.sh\n$conf",
                 'hello.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                             . "\\r\\n\\r\\nHello, world\\n'\n");
}
$t->function('cold', "exec = $B/functions/hello/hello\n"
                     . "idle_timeout = 200ms\n");
$t->function('cold-php', "exec = php-cgi\nscript = index.php\n"
                         . "idle_timeout = 200ms\nmemory = 512M\n",
             'index.php' => "<?php\necho \"Hello, world\\n\";\n");
# the cost of isolation at spawn: the same CGI in namespaces (root only;
# "tmp pid ipc" is a root runner's default)
my @isolations = $> == 0 ? ('none', 'tmp', 'pid', 'ipc', 'net', 'uts',
                            'tmp pid ipc', 'tmp pid ipc net uts') : ();
for my $iso (@isolations) {
    (my $n = "cold-iso-$iso") =~ tr/ /-/;
    $t->function($n, "exec = ./hello.sh\nmode = cgi\nisolation = $iso\n",
                 'hello.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                             . "\\r\\n\\r\\nHello, world\\n'\n");
}
$t->function('cold-sh', "exec = ./hello.sh\nmode = cgi\n",
             'hello.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n"
                         . "\\r\\nHello, world\\n'\n");
# every function here bills the same tenant, whose user may have 64
# processes by default (max_processes): the CGI rows alone run 32 at once
# (64 processes under faas-init), and namespaces end asynchronously
$t->start_runner(log_level => 'warn', conf => "max_processes = 4096\n"
                                      . "limit_isolation = none\n");

# --- the competitors -----------------------------------------------------

spawn('spawn-fcgi.log', 'spawn-fcgi', '-n', '-s', "$p/spawn.sock",
      '-M', '0666', '-F', '64', '--', "$B/functions/hello/hello");
wait_sock("$p/spawn.sock");

# the fair direct rows: as many children as connections, each kept by
# nginx (fastcgi_keep_conn), so nothing waits on a parked connection
my %direct;
for my $n (1, 8, 32) {
    $direct{$n} = spawn("spawn-fcgi-$n.log", 'spawn-fcgi', '-n', '-s', "$p/spawn$n.sock",
          '-M', '0666', '-F', $n, '--', "$B/functions/hello/hello");
    wait_sock("$p/spawn$n.sock");
}

FaasTest::write_file("$p/index.php", "<?php\necho \"Hello, world\\n\";\n");
chmod 0644, "$p/index.php";
# a static pool and an ondemand one, as many children each
FaasTest::write_file("$p/php-fpm.conf", FaasTest::php_fpm_conf($p,
    [ 'static', "$p/fpm-static.sock", "pm = static\npm.max_children = 4\n" ],
    [ 'ondemand', "$p/fpm-ondemand.sock", "pm = ondemand\n"
      . "pm.max_children = 4\npm.process_idle_timeout = 1s\n" ]));
my ($fpm) = glob('/usr/sbin/php-fpm*');
spawn('php-fpm.out', $fpm, '-F', '-y', "$p/php-fpm.conf", '-p', $p);
wait_sock("$p/fpm-static.sock");
wait_sock("$p/fpm-ondemand.sock");

# as many children as the runner's max_instances for CGI: a fair fight
spawn('fcgiwrap.log', 'fcgiwrap', '-c', '32', '-s', "unix:$p/fcgiwrap.sock");
wait_sock("$p/fcgiwrap.sock");

my $cgi_sh = "$p/functions/cgi-sh/hello.sh";

# --- nginx ---------------------------------------------------------------

$t->{port} = FaasTest::free_port();
my $sock = $t->socket_path;
my $http = <<"EOF";
    access_log off;

    upstream runner { server unix:$sock; keepalive 32; }
    upstream spawnfcgi { server unix:$p/spawn.sock; keepalive 32; }
    upstream direct1 { server unix:$p/spawn1.sock; keepalive 1; }
    upstream direct8 { server unix:$p/spawn8.sock; keepalive 8; }
    upstream direct32 { server unix:$p/spawn32.sock; keepalive 32; }
    upstream fpm { server unix:$p/fpm-static.sock; }
    upstream fpm_ondemand { server unix:$p/fpm-ondemand.sock; }
    upstream fcgiwrap { server unix:$p/fcgiwrap.sock; }

    server {
        listen 127.0.0.1:$t->{port} backlog=4096;

        location = /return { return 200 "Hello, world\\n"; }

        location /faas/ {
            faas_route ^/faas/(?<name>[a-z-]+)\$ \$name;
            faas_pass runner;
        }

        location /async/ {
            faas_route ^/async/(?<name>[a-z-]+)\$ \$name;
            faas_invocation async;
            faas_pass runner;
        }

        location = /runner/hello {
            fastcgi_pass runner;
            fastcgi_keep_conn on;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION hello;
        }

        location = /spawn-fcgi/hello {
            fastcgi_pass spawnfcgi;
            fastcgi_keep_conn on;
            include /etc/nginx/fastcgi_params;
        }

        location ~ ^/direct(?<dn>1|8|32)/hello\$ {
            fastcgi_pass direct\$dn;
            fastcgi_keep_conn on;
            include /etc/nginx/fastcgi_params;
        }

        location = /php-fpm/static {
            fastcgi_pass fpm;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $p/index.php;
        }

        location = /php-fpm/ondemand {
            fastcgi_pass fpm_ondemand;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $p/index.php;
        }

        location = /fcgiwrap/c {
            fastcgi_pass fcgiwrap;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $B/bench/hello-cgi;
        }

        location = /fcgiwrap/sh {
            fastcgi_pass fcgiwrap;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $cgi_sh;
        }
    }
EOF
$t->start_nginx($http);

my $base = "http://127.0.0.1:$t->{port}";

# a second nginx, the same but for an access log with every $faas_*: the
# module asks the runner to measure only where such a variable is used
my $tm = FaasTest->new(runner => "$B/fcgi-runner");
$tm->{port} = FaasTest::free_port();
$tm->{socket} = $sock;
my $mlog = $tm->prefix . '/logs/meter.log';
$tm->start_nginx(<<"EOF");
@{[ FaasTest::meter_log_format() ]}
    access_log off;

    upstream runner { server unix:$sock; keepalive 32; }

    server {
        listen 127.0.0.1:$tm->{port} backlog=4096;

        location /faas/ {
            faas_route ^/faas/(?<name>[a-z-]+)\$ \$name;
            faas_pass runner;
            access_log $mlog faas_meter buffer=64k;
        }

        location /plain/ {
            faas_route ^/plain/(?<name>[a-z-]+)\$ \$name;
            faas_pass runner;
            access_log $mlog;
        }
    }
EOF
my $mbase = "http://127.0.0.1:$tm->{port}";

for my $u (qw(/return /faas/hello /runner/hello /spawn-fcgi/hello
              /direct1/hello /direct8/hello /direct32/hello
              /faas/hello-php /php-fpm/static /faas/cgi-c /faas/cgi-sh
              /fcgiwrap/c /fcgiwrap/sh /php-fpm/ondemand))
{
    my $r = $t->http_get($u);
    die "$u: " . ($r ? "$r->{status} $r->{body}" : 'no answer') . "\n"
        unless $r && $r->{status} == 200 && $r->{body} =~ /Hello, world/;
}

# --- throughput ----------------------------------------------------------

sub wrk {
    my ($uri, $c) = @_;
    my $threads = $c < 2 ? 1 : 2;
    my $url = $uri =~ m{^/meter/} ? $mbase . ($uri =~ s{^/meter/}{/faas/}r)
            : $uri =~ m{^/plain/} ? $mbase . $uri
            : $base . $uri;
    my $cmd = "ulimit -n 65536 2>/dev/null; wrk -t$threads -c$c "
            . "-d${dur}s --latency $url 2>&1";
    my $out = `$cmd`;
    my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    my ($p50) = $out =~ /^\s+50%\s+([\d.]+\w+)/m;
    my ($p99) = $out =~ /^\s+99%\s+([\d.]+\w+)/m;
    my ($non2xx) = $out =~ /Non-2xx or 3xx responses:\s+(\d+)/;
    my ($errs) = $out =~ /Socket errors:(.*)/;
    my $failed = 0;
    $failed += $_ for ($errs // '') =~ /(\d+)/g;
    return { rps => $rps // 0, p50 => ms($p50), p99 => ms($p99),
             bad => ($non2xx // 0) + $failed, errors => $errs // '' };
}

sub ms {
    my ($s) = @_;
    return undef unless defined $s;
    my ($n, $u) = $s =~ /([\d.]+)(\w+)/;
    return $u eq 'us' ? $n / 1000 : $u eq 's' ? $n * 1000 : $n;
}

sub median {
    my @s = sort { $a <=> $b } grep { defined } @_;
    return undef unless @s;
    return $s[$#s / 2] if @s % 2;
    return ($s[@s / 2 - 1] + $s[@s / 2]) / 2;
}

my @rows = (
    [ 'ceiling', 'nginx return 200', '/return', $conns, undef ],
    [ 'c', 'faas_pass -> runner -> C worker', '/faas/hello', $conns,
      'c-spawn' ],
    [ 'c-none', '... the same, isolation = none',
      '/faas/hello-none', $conns, 'c' ],
    [ 'c-runner', 'fastcgi_pass -> runner -> C worker', '/runner/hello',
      $conns, 'c-spawn' ],
    [ 'c-spawn', 'fastcgi_pass keepalive -> spawn-fcgi C app, 64 children',
      '/spawn-fcgi/hello', $conns, undef ],
    [ 'php-rt', 'faas_pass -> runner -> runtime = php, 4 workers',
      '/faas/hello-rt', $conns, 'php-fpm' ],
    [ 'php', 'faas_pass -> runner -> php-cgi, 4 workers', '/faas/hello-php',
      $conns, 'php-fpm' ],
    [ 'php-fpm', 'fastcgi_pass -> php-fpm static, 4 children',
      '/php-fpm/static', $conns, undef ],
    [ 'cgi-c', 'faas_pass -> runner mode=cgi, C binary', '/faas/cgi-c',
      $conns, 'wrap-c' ],
    [ 'cgi-c-none', '... the same, isolation = none', '/faas/cgi-c-none',
      $conns, 'wrap-c' ],
    [ 'wrap-c', 'fastcgi_pass -> fcgiwrap, C binary', '/fcgiwrap/c',
      $conns, undef ],
    [ 'cgi-sh', 'faas_pass -> runner mode=cgi, sh script', '/faas/cgi-sh',
      $conns, 'wrap-sh' ],
    [ 'cgi-sh-none', '... the same, isolation = none', '/faas/cgi-sh-none',
      $conns, 'wrap-sh' ],
    [ 'wrap-sh', 'fastcgi_pass -> fcgiwrap, sh script', '/fcgiwrap/sh',
      $conns, undef ],
    [ 'meter-on', 'faas_pass, access log with every $faas_* variable',
      '/meter/hello', $conns, 'meter-off' ],
    [ 'meter-off', 'faas_pass, the same access log without them',
      '/plain/hello', $conns, undef ],
    [ 'c1000', 'faas_pass -> runner -> C worker, 1000 connections, queue 1024',
      '/faas/hello-q', 1000, 'c' ],
    [ 'c-c1', 'faas_pass -> runner -> C worker, 1 connection',
      '/faas/hello', 1, 'direct-1' ],
    [ 'direct-1', 'fastcgi_pass keep_conn -> spawn-fcgi, 1 child, 1 conn',
      '/direct1/hello', 1, undef ],
    [ 'c-c8', 'faas_pass -> runner -> C worker, 8 connections',
      '/faas/hello', 8, 'direct-8' ],
    [ 'direct-8', 'fastcgi_pass keep_conn -> spawn-fcgi, 8 children, 8',
      '/direct8/hello', 8, undef ],
    [ 'c-c32', 'faas_pass -> runner -> C worker, 32 connections',
      '/faas/hello', 32, 'direct-32' ],
    [ 'direct-32', 'fastcgi_pass keep_conn -> spawn-fcgi, 32 children, 32',
      '/direct32/hello', 32, undef ],
    [ 'spawn-c1', 'fastcgi_pass keepalive -> spawn-fcgi, 1 connection',
      '/spawn-fcgi/hello', 1, undef ],
    [ 'async', 'faas_invocation async: stored (fsync), 202',
      '/async/evt', $conns, 'c' ],
);

if ($ENV{BENCH_ROWS}) {
    my %want = map { $_ => 1 } split /,/, $ENV{BENCH_ROWS};
    @rows = grep { $want{ $_->[0] } } @rows;
    $_->[4] = undef for grep { $_->[4] && !$want{ $_->[4] } } @rows;
}

my %res;
for my $round (1 .. $rounds) {
    for my $row (@rows) {
        my $r = wrk($row->[2], $row->[3]);
        push @{ $res{ $row->[0] } }, $r;
        printf STDERR "round %d %-9s %9.0f req/s%s\n", $round, $row->[0],
            $r->{rps}, $r->{bad} ? " ($r->{bad} non-2xx)" : '';
        async_drain() if $row->[0] eq 'async';
    }
}

# what the async row accepted runs before anything else is measured
sub async_drain {
    my $db = $t->prefix . '/state/async.db';
    FaasTest::wait_for(sub {
        `sqlite3 -readonly $db 'SELECT COUNT(*) FROM invocations WHERE state < 2' 2>/dev/null`
            =~ /^0$/m;
    }, 300);
}

my $hwm_load = vm($t->runner_pid, 'VmHWM');

# --- CPU a request ---------------------------------------------------------

# where a warm request's CPU goes, faas beside the fair direct row at 1
# and 8 connections: req/s on two cores is what the processes of a
# request leave each other, and the CPU of each says which costs what
sub session {
    my ($sid) = @_;
    return grep {
        (FaasTest::read_file("/proc/$_/stat") // '')
            =~ /^\d+ \(.*\) \S+ \d+ \d+ (\d+)/s && $1 == $sid
    } map { m{/proc/(\d+)/} } glob '/proc/[0-9]*/stat';
}
my $nginx = sub { $t->{nginx_pid}, FaasTest::proc_children($t->{nginx_pid}) };
my %cpu;
for my $c (grep { !$ENV{BENCH_ROWS} || $ENV{BENCH_ROWS} =~ /\bcpu\b/ } 1, 8) {
    $cpu{"faas $c"} = cpu_per_request("$base/faas/hello", $c, $dur,
                                      workers => sub { $t->workers('hello') },
                                      runner => sub { $t->runner_pid },
                                      nginx => $nginx);
    $cpu{"direct $c"} = cpu_per_request("$base/direct$c/hello", $c, $dur,
                                        workers => sub { session($direct{$c}) },
                                        nginx => $nginx);
}

# --- cold starts ---------------------------------------------------------

sub one_request {
    my ($uri) = @_;
    my $t0 = time;
    my $r = $t->http_get($uri);
    my $dt = (time - $t0) * 1000;
    return ($r && $r->{status} == 200) ? $dt : undef;
}

sub cold_runner {
    my ($fn) = @_;
    my @s;
    for (1 .. $cold_n) {
        FaasTest::wait_for(sub { !$t->workers($fn) }, 5);
        push @s, one_request("/faas/$fn");
        sleep 0.05;
    }
    return median(@s);
}

my %cold;
$cold{c} = cold_runner('cold');
$cold{php} = cold_runner('cold-php');
{
    my @s = map { one_request('/faas/cold-sh') } 1 .. $cold_n;
    $cold{sh} = median(@s);

    for my $iso (map { tr/ /-/r } @isolations) {
        @s = map { one_request("/faas/cold-iso-$iso") } 1 .. $cold_n;
        $cold{"iso $iso"} = median(@s);
    }
}
{
    my @s;
    for (1 .. $cold_n) {
        sleep 1.6;    # pm.process_idle_timeout = 1s, then the reap
        push @s, one_request('/php-fpm/ondemand');
    }
    $cold{fpm} = median(@s);
}
$cold{warm} = median(map { one_request('/faas/hello') } 1 .. 50);
$cold{ret} = median(map { one_request('/return') } 1 .. 50);
my ($floor50, $floor99) = split ' ', `$B/bench/spawn-floor $B/bench/noop 2000`;

# --- memory --------------------------------------------------------------

sub vm {
    my ($pid, $key) = @_;
    my ($kb) = FaasTest::read_file("/proc/$pid/status") =~ /^$key:\s+(\d+)/m;
    return $kb // 0;
}

my $idle_rss;
{
    my $t2 = FaasTest->new(runner => "$B/fcgi-runner");
    for my $i (1 .. 100) {
        $t2->function("f$i", "exec = $B/functions/hello/hello\n");
    }
    $t2->start_runner(log_level => 'warn');
    sleep 0.5;
    $idle_rss = vm($t2->runner_pid, 'VmRSS');
    $t2->stop_runner;
}

# an idle runner: from its 202 to the function's first instruction (a
# CGI sh: its spawn and the default isolation included), median of 20
my $async_start;
{
    my @d;
    for my $i (1 .. 20) {
        my @before = split /\n/, FaasTest::read_file("$stamps/out/t");
        my $n = @before;
        my $r = $t->http_post('/async/evts', "x$i");
        my $t202 = time;
        next unless $r && $r->{status} == 202;
        FaasTest::wait_for(sub {
            my @l = split /\n/, FaasTest::read_file("$stamps/out/t");
            return @l > $n;
        }, 5);
        my @l = split /\n/, FaasTest::read_file("$stamps/out/t");
        push @d, ($l[-1] - $t202) * 1000 if @l > $n;
        sleep 0.05;
    }
    $async_start = median(@d);
}

# the status of 1,000 functions (each served once, so every counter and
# histogram is there), asked for straight over the runner's socket: the
# runner's own render time (its debug log says it) and the time to the
# whole answer, medians of 20 per format
my (%status_ms, %status_render, %status_kb, %protos);

sub mem_available {
    my ($kb) = FaasTest::read_file('/proc/meminfo') =~ /^MemAvailable:\s+(\d+)/m;
    return $kb // 0;
}

sub pss_kb {
    my ($pid) = @_;
    my ($kb) = (FaasTest::read_file("/proc/$pid/smaps_rollup") // '')
               =~ /^Pss:\s+(\d+)/m;
    return $kb // 0;
}

{
    my $t3 = FaasTest->new(runner => "$B/fcgi-runner");
    for my $i (1 .. 1000) {
        $t3->function("s$i", "exec = ./run.sh\nmode = cgi\n"
                      . "tenant = t" . ($i % 50) . "\n",
                      'run.sh' => "#!/bin/sh\nprintf 'Content-Type: "
                                . "text/plain\\r\\n\\r\\nok\\n'\n");
    }
    my $avail0 = mem_available();
    $t3->start_runner(log_level => 'debug');
    $t3->fcgi_call("s$_") for 1 .. 1000;
    # as a root runner isolates them, each function has a prototype now
    # (and, under pid, its namespace's process 1): what they all cost
    if ($> == 0) {
        # prototypes and their namespaces' process 1 (the reaper: 1 in
        # its own pid namespace), all the runner's children
        my @all = grep { FaasTest::read_file("/proc/$_/cmdline") =~
                         /^faas-init\0prototype\0/ }
                  FaasTest::proc_children($t3->runner_pid);
        $protos{n} = grep { FaasTest::read_file("/proc/$_/status")
                            !~ /^NSpid:.*\s1$/m } @all;
        $protos{procs} = @all;
        my $kb = 0;
        $kb += pss_kb($_) for @all;
        $protos{pss_mb} = $kb / 1024;
        $protos{used_mb} = ($avail0 - mem_available()) / 1024;
    }
    for my $format ('json', 'prometheus') {
        my @ms;
        for (1 .. 20) {
            my $t0 = time;
            my $s = $t3->fcgi_connect;
            my $r = FaasTest::fcgi_exchange($s, FaasTest::fcgi_request_bytes(
                        params => [ FAAS_STATUS => 1, REQUEST_METHOD => 'GET',
                                    QUERY_STRING => "format=$format" ],
                        keep => 0));
            push @ms, (time - $t0) * 1000;
            $status_kb{$format} = length($r->{stdout}) / 1024;
        }
        $status_ms{$format} = median(@ms);
        # this format's: the last 20 renders
        my @us = $t3->runner_log =~ /status rendered in (\d+) us/g;
        $status_render{$format} = median(@us[-20 .. -1]) / 1000;
    }
    $t3->stop_runner;
}

# --- the table -----------------------------------------------------------

my %med;
for my $row (@rows) {
    my $rs = $res{ $row->[0] };
    $med{ $row->[0] } = {
        rps => median(map { $_->{rps} } @$rs),
        p50 => median(map { $_->{p50} } @$rs),
        p99 => median(map { $_->{p99} } @$rs),
        bad => (eval { my $n = 0; $n += $_->{bad} for @$rs; $n }),
    };
}

my $ceil = ($med{ceiling} && $med{ceiling}{rps}) || 1;
my $out = '';
$out .= sprintf "wrk -t2 -c%d -d%ds, %d interleaved round(s), medians; "
              . "nginx 1 worker, access_log off\n\n", $conns, $dur, $rounds;
$out .= sprintf "| %-55s | %9s | %8s | %8s | %7s | %-14s |\n",
                'row', 'req/s', 'p50 ms', 'p99 ms', 'x ceil', 'vs competitor';
$out .= '|' . join('|', map { '-' x ($_ + 2) } 55, 9, 8, 8, 7, 14) . "|\n";
for my $row (@rows) {
    my $m = $med{ $row->[0] };
    my $vs = $row->[4] ? sprintf('%.2f', $m->{rps} / ($med{ $row->[4] }{rps}
                                                       || 1))
                       : '';
    $out .= sprintf "| %-55s | %9.0f | %8.3f | %8.3f | %7.3f | %-14s |\n",
        $row->[1] . ($m->{bad} ? " ($m->{bad} errors)" : ''),
        $m->{rps}, $m->{p50} // 0, $m->{p99} // 0, $m->{rps} / $ceil,
        $vs ? "$vs x $row->[4]" : '';
}

$out .= sprintf "\nsingle request on a fresh connection, median of %d "
              . "(ms):\n", $cold_n;
$out .= sprintf "  nginx return                      %7.3f\n", $cold{ret};
$out .= sprintf "  faas C, warm                      %7.3f\n", $cold{warm};
$out .= sprintf "  faas C, cold (after scale to 0)   %7.3f\n", $cold{c};
$out .= sprintf "  faas PHP, cold                    %7.3f\n", $cold{php};
$out .= sprintf "  faas sh CGI (every request cold)  %7.3f\n", $cold{sh};
for my $k (sort grep { /^iso / } keys %cold) {
    (my $what = $k) =~ s/^iso //;
    $what =~ tr/-/ /;
    $out .= sprintf "    ... isolation = %-15s %7.3f\n", $what, $cold{$k};
}
$out .= sprintf "  php-fpm ondemand, cold            %7.3f\n", $cold{fpm};
$out .= sprintf "  spawn+wait floor, static no-op    %7.3f p50, %.3f p99\n",
                $floor50 / 1000, $floor99 / 1000;

for my $c (sort { $a <=> $b } map { /^faas (\d+)/ ? $1 : () } keys %cpu) {
    my ($f, $d) = ($cpu{"faas $c"}, $cpu{"direct $c"});
    $out .= sprintf "\nCPU a request, C hello warm, %d connection(s) (us): "
                  . "faas worker %.1f + runner %.1f + nginx %.1f = %.1f; "
                  . "direct (spawn-fcgi, keep_conn) worker %.1f + nginx %.1f "
                  . "= %.1f: faas %.2fx%s\n", $c,
                  @$f{qw(workers runner nginx total)},
                  @$d{qw(workers nginx total)},
                  $f->{total} / ($d->{total} || 1),
                  ($f->{gone} // '') . ($d->{gone} // '')
                  ? " (processes ended during the run: figures low)" : '';
}
$out .= sprintf "\nasynchronous, idle runner: 202 to the function's start "
              . "(CGI sh, default isolation) %.2f ms, median of 20\n",
              $async_start // 0;
$out .= sprintf "\nstatus of 1,000 functions, median of 20 (ms): rendered "
              . "JSON %.2f, Prometheus %.2f; whole answer JSON %.2f "
              . "(%.0f KiB), Prometheus %.2f (%.0f KiB)\n",
              $status_render{json}, $status_render{prometheus},
              $status_ms{json}, $status_kb{json}, $status_ms{prometheus},
              $status_kb{prometheus};
$out .= sprintf "\n1,000 isolated functions, each served once: %d prototypes, "
              . "%d processes with their pid namespaces' process 1; their Pss "
              . "%.1f MiB in all, the machine's memory in use +%.1f MiB "
              . "(kernel: namespaces, mounts, page tables)\n",
              $protos{n}, $protos{procs}, $protos{pss_mb}, $protos{used_mb}
    if $protos{n};
$out .= sprintf "\nrunner RSS: %.1f MiB idle with 100 functions, %.1f MiB "
              . "peak after the load above\n", $idle_rss / 1024,
              $hwm_load / 1024;

print $out;
FaasTest::write_file("$FaasTest::BUILD/bench.txt", $out);

# --- stop exactly what we started ----------------------------------------

my $metered = () = FaasTest::read_file($mlog) =~ /duration=\d/g;
my $note = "\n$metered requests metered in the access log of the meter row\n";
print $note;
FaasTest::write_file("$FaasTest::BUILD/bench.txt", $out . $note);

$tm->stop_nginx;
$t->stop_nginx;
$t->stop_runner;
kill 'TERM', map { -$_ } @started;
for my $pid (@started) {
    FaasTest::wait_for(sub { waitpid($pid, WNOHANG) != 0 }, 5)
        or do { kill 'KILL', -$pid; waitpid($pid, 0) };
}

# and nothing of theirs is left
my %groups = map { $_ => 1 } @started;
my @left;
FaasTest::wait_for(sub {
    @left = grep { my $s = FaasTest::read_file("/proc/$_/stat");
                   $s =~ /^\d+ \(.*\) [^ZX] \d+ (\d+)/s && $groups{$1} }
            map { m{(\d+)$} } glob '/proc/[0-9]*';
    !@left;
}, 5);
if (@left) {
    kill 'KILL', @left;
    die "bench: processes of the competitors were left running: @left\n";
}
print "bench: every process it started is stopped\n";
