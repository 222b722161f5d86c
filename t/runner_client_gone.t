#!/usr/bin/perl

# A client that closes once it has its response (curl does) leaves the
# invocation running: work a function does after its response (a marker
# written 2 s later) is done, as under fcgiwrap; a FastCGI worker is
# kept and serves the next request; the invocation is metered once,
# in nginx's access log if nginx got its measurements, else in the
# runner's meter_log as client_closed; fcgi-runner meter counts it once.
# So is a run nginx gave up on (faas_read_timeout): its 504 is in the
# access log without an outcome, the run in meter_log.
# A FastCGI client's FCGI_ABORT_REQUEST is answered at once, and the
# invocation runs on all the same. Its hostile twin: a function whose
# client left and that then writes 50 MB nobody will read is killed
# once it has written 1 MiB more (as a script writing to a closed
# connection is under php-fpm), not drained at the runner's full speed.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use POSIX ();
use Time::HiRes ();

# a peer that closes must fail a test, not kill it
$SIG{PIPE} = 'IGNORE';

my $t = FaasTest->new;
my $p = $t->prefix;
my $fn = $t->testfn;
my $bin = "$FaasTest::BUILD/fcgi-runner";

# the response whole, then work; the marker's path is relative to the
# script's folder, where both the runner and fcgiwrap run it
my $cgi = <<'EOF';
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nhello end\n'
sleep 2
echo done > "out/after-$QUERY_STRING"
EOF

my $fdir = $t->function('fafter', "exec = $fn\n"
                        . "env.TESTFN_MARKER_DIR = $p/functions/fafter/out\n");
# the same, with a timeout shorter than its work
$t->function('tafter', "exec = $fn\ntimeout = 1s\n"
             . "env.TESTFN_MARKER_DIR = $p/functions/fafter/out\n");
# longer than nginx waits for it
$t->function('slowpoke', "exec = $fn\ntimeout = 5s\n");
my $cdir = $t->function('cafter', "exec = ./run\nmode = cgi\n", run => $cgi);
my $odir = $t->function('flood', "exec = ./run\nmode = cgi\n", run => <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nflood end\n'
sleep 1
head -c 50000000 /dev/zero
echo done > "out/after-$QUERY_STRING"
EOF

# PHP's flush(); sleep(): php-cgi as a FastCGI worker
my $php = -x '/usr/bin/php-cgi';
my $pdir = $t->function('pafter', "exec = php-cgi\nscript = app.php\n",
                        'app.php' => <<'EOF');
<?php
header('Content-Type: text/plain');
echo "php end\n";
while (ob_get_level()) {
    ob_end_flush();
}
flush();
sleep(2);
file_put_contents(__DIR__ . '/out/after-' . $_SERVER['QUERY_STRING'], 'x');
EOF

for my $d ("$fdir/out", "$cdir/out", "$pdir/out", "$odir/out") {
    mkdir $d;
    chmod 0777, $d;
}

my $meter = "$p/logs/runner-meter.log";
my $access = "$p/logs/meter.log";

$t->start_runner(conf => "meter_log = $meter\n");

# fcgiwrap, for the same CGI script, as the user the runner's CGI
# processes run as (as in runner_cgi_fcgiwrap.t)
my $wrap;
my $port2 = FaasTest::free_port();
my $wrapped = '';

if (-x '/usr/sbin/fcgiwrap') {
    my $user = $> == 0 ? 'nobody' : getpwuid($>);
    mkdir "$p/wrap";
    chown scalar(getpwnam($user)), -1, "$p/wrap" if $> == 0;
    $wrap = fork // die;
    if ($wrap == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$p/logs/fcgiwrap.log";
        open STDERR, '>&', \*STDOUT;
        POSIX::setpgid(0, 0);
        if ($> == 0) {
            my ($uid, $gid) = (getpwnam($user))[2, 3];
            POSIX::setgid($gid);
            $) = "$gid $gid";
            POSIX::setuid($uid);
        }
        exec '/usr/sbin/fcgiwrap', '-c', '1', '-s', "unix:$p/wrap/sock"
            or POSIX::_exit(127);
    }
    FaasTest::wait_for(sub { -S "$p/wrap/sock" }, 10);
    chmod 0777, "$p/wrap/sock";

    $wrapped = <<"EOF";
    server {
        listen 127.0.0.1:$port2;
        location /fn/cafter {
            fastcgi_pass unix:$p/wrap/sock;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $cdir/run;
        }
    }
EOF
}

$t->start_nginx(FaasTest::meter_log_format()
                . $t->faas_location(location => "access_log $access "
                                                . "faas_meter;",
                                    extra => <<"EOF")
        location /impatient/ {
            faas_function slowpoke;
            faas_pass runner;
            faas_read_timeout 300ms;
            access_log $access faas_meter;
        }
EOF
                . $wrapped);

# a raw client that closes as soon as its body is in
sub hit {
    my ($port, $uri) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    return FaasTest::http_exchange($s, "GET $uri HTTP/1.1\r\n"
                                   . "Host: localhost\r\n\r\n",
                                   until => qr/\r\n\r\n.*end\n/s,
                                   timeout => 10);
}

# the lines that carry an invocation's measurements: nginx's with an
# outcome, the runner's meter_log
sub metered {
    my ($name) = @_;
    my @n = grep { /function=$name / && !/outcome=- / }
            split /\n/, FaasTest::read_file($access);
    my @m = grep { /function=$name / } split /\n/, FaasTest::read_file($meter);
    return (\@n, \@m);
}

# --- FastCGI -------------------------------------------------------------

# (pids as the runner sees them: a worker's own may be in its namespace)
my $r = hit($t->port, '/fn/fafter?op=after&ms=2000&n=1');
my @w1 = $t->workers('fafter');
my ($pid) = ($r->{body} // '') =~ /pid=(\d+)/;
ok($pid && @w1, 'fastcgi: the whole response came') or diag(explain($r));

ok(FaasTest::wait_for(sub { -e "$fdir/out/after-1" }, 10),
   'fastcgi: the work after the response was done');
is(FaasTest::read_file("$fdir/out/after-1"), "$pid\n",
   '... by the worker that answered');
is_deeply([ $t->workers('fafter') ], \@w1, 'fastcgi: the worker lives on');

ok(FaasTest::wait_for(sub {
       my ($n, $m) = metered('fafter');
       @$n + @$m >= 1 }, 10), 'fastcgi: the invocation is metered');

my $r2 = $t->http_get('/fn/fafter?op=pid');
like($r2->{body} // '', qr/^pid=\Q$pid\E\n/, 'fastcgi: the next request');
is_deeply([ $t->workers('fafter') ], \@w1,
          '... is served by the same worker');
unlike($t->runner_log, qr/its client went away$/m,
       'no worker was stopped for its client');

# --- FCGI_ABORT_REQUEST ----------------------------------------------------

my $s = $t->fcgi_connect;
my $req = FaasTest::fcgi_request_bytes(
    params => FaasTest::fcgi_default_params('fafter',
                                            QUERY_STRING => 'op=after&n=5'));
my $a = FaasTest::fcgi_exchange($s, $req, until_type => FaasTest::FCGI_STDOUT,
                                timeout => 10);
my @wa = $t->workers('fafter');
ok($a->{stdout} =~ /pid=\d+/ && @wa, 'abort: the response came');

$a = FaasTest::fcgi_exchange($s, FaasTest::fcgi_record(
                                 FaasTest::FCGI_ABORT_REQUEST, 1),
                             timeout => 10);
ok($a->{ended} && !-e "$fdir/out/after-5",
   'abort: END_REQUEST comes before the invocation ends');
is($a->{protocol_status}, 0, '... as REQUEST_COMPLETE');
ok(FaasTest::wait_for(sub { -e "$fdir/out/after-5" }, 10),
   'abort: the invocation ran to its end');
is_deeply([ $t->workers('fafter') ], \@wa, 'abort: the worker lives on');

$a = FaasTest::fcgi_exchange($s, FaasTest::fcgi_request_bytes(
         params => FaasTest::fcgi_default_params('fafter',
                                                 QUERY_STRING => 'op=pid')),
         timeout => 10);
like($a->{stdout}, qr/pid=\d+/,
     'abort: the connection takes another request');
close $s;

# --- PHP ------------------------------------------------------------------

SKIP: {
    skip 'php-cgi is not installed', 4 unless $php;

    $r = hit($t->port, '/fn/pafter?6');
    my $at = Time::HiRes::time();
    my @wp = $t->workers('pafter');
    like($r->{body} // '', qr/^php end\n/, 'php: the whole response came');
    ok(FaasTest::wait_for(sub { -e "$pdir/out/after-6" }, 10),
       'php: the work after flush() was done');
    # (a SIGTERM cuts PHP's sleep() short)
    cmp_ok((Time::HiRes::stat("$pdir/out/after-6"))[9] - $at, '>', 1,
           '... after the whole of its sleep(2)');
    $t->http_get('/fn/pafter?7');
    is_deeply([ $t->workers('pafter') ], \@wp,
              'php: the next request is served by the same worker');
}

# --- CGI, and the same script under fcgiwrap -------------------------------

$r = hit($t->port, '/fn/cafter?2');
like($r->{body} // '', qr/^hello end\n/, 'cgi: the whole response came');
ok(FaasTest::wait_for(sub { -e "$cdir/out/after-2" }, 10),
   'cgi: the work after the response was done');
ok(FaasTest::wait_for(sub {
       my ($n, $m) = metered('cafter');
       @$n + @$m >= 1 }, 10), 'cgi: the invocation is metered');

SKIP: {
    skip 'fcgiwrap is not installed', 2 unless $wrap;

    $r = hit($port2, '/fn/cafter?4');
    like($r->{body} // '', qr/^hello end\n/,
         'fcgiwrap: the same response');
    ok(FaasTest::wait_for(sub { -e "$cdir/out/after-4" }, 10),
       'fcgiwrap: the work after the response was done there too');
}

# --- bounded by its timeout -------------------------------------------------

$r = hit($t->port, '/fn/tafter?op=after&ms=8000&n=8');
like($r->{body} // '', qr/pid=\d+ end\n/, 'timeout: the whole response came');
ok(FaasTest::wait_for(sub {
       FaasTest::read_file($meter) =~ /function=tafter .* outcome=timeout /
   }, 10), 'timeout: it ends at its timeout, metered as timeout in meter_log');
ok(!-e "$fdir/out/after-8", '... its work cut there');

# --- a flood nobody reads ---------------------------------------------------

$r = hit($t->port, '/fn/flood?9');
like($r->{body} // '', qr/^flood end\n/, 'flood: the response came');
ok($t->wait_log(qr/function "flood": worker \d+ wrote \d+ bytes nobody reads, killing it/, 15),
   'flood: what it wrote after its client left is bounded: it is killed');
my ($wrote) = $t->runner_log =~ /"flood": worker \d+ wrote (\d+) bytes/;
cmp_ok($wrote, '<', 2 * 1024 * 1024, '... past 1 MiB, not 50 MB');
ok(FaasTest::wait_for(sub { !$t->workers('flood') }, 10),
   '... and gone');
sleep 1;
ok(!-e "$odir/out/after-9", '... its work cut there');
ok(FaasTest::wait_for(sub {
       FaasTest::read_file($meter)
           =~ /function=flood .* outcome=client_closed .* cpu=\d[\d.]* memory=\d+ /
   }, 10), '... metered as client_closed in meter_log, its CPU and memory too')
    or diag(FaasTest::read_file($meter));

# --- metered once ----------------------------------------------------------

$t->http_get('/fn/cafter?3');
FaasTest::wait_for(sub {
    my ($n) = metered('cafter');
    grep { /status=200/ } @$n }, 10);

# nothing more is coming: what would be logged twice is there now
select(undef, undef, undef, 0.5);

my ($n, $m) = metered('fafter');
is(@$n + @$m, 2, 'fastcgi: one meter line per invocation')
    or diag(join "\n", @$n, @$m);
($n, $m) = metered('cafter');
is(@$n + @$m, 2, 'cgi: one meter line per invocation')
    or diag(join "\n", @$n, @$m);

my $closed = join ' ', 'status=499 outcome=client_closed',
                       'duration=\d+\.\d{3} .*', 'trigger=http',
                       'id=[0-9a-f]{32}$';
for my $line (grep { /function=(fafter|cafter) / }
              split /\n/, FaasTest::read_file($meter))
{
    like($line, qr/ $closed/,
         'meter_log: client_closed, timed, with nginx\'s request id');
}

# nginx gives up at its faas_read_timeout: the run is the runner's to
# meter (it runs on), once
is($t->http_get('/impatient/?op=sleep&ms=1200')->{status}, 504,
   'nginx gave up on a slow function: 504');
ok(FaasTest::wait_for(sub { FaasTest::read_file($meter)
                            =~ /function=slowpoke .*outcome=client_closed/ },
                      10), '... the run metered in meter_log, client_closed');
like(FaasTest::read_file($access), qr/function=slowpoke .*status=504 outcome=- /,
     '... nginx\'s line has its 504, no outcome (not a second run)');

my $rep = eval {
    decode_json(scalar `$bin meter --format json $access $meter 2>/dev/null`)
};
my %g = map { $_->{name} => $_ } @{ $rep->{groups} // [] };
is($g{fafter}{invocations}, 2, 'fcgi-runner meter: each fastcgi one once');
is($g{cafter}{invocations}, 2, 'fcgi-runner meter: each cgi one once');
is($g{slowpoke}{invocations}, 1, 'fcgi-runner meter: the run nginx gave up '
   . 'on, once');
is($g{slowpoke}{outcomes}{client_closed}, 1, '... as client_closed');
for my $f ('fafter', 'cafter') {
    my $o = $g{$f}{outcomes} // {};
    is($o->{client_closed}, 1, "$f: the run whose client left in its column");
    my $sum = 0;
    $sum += $_ for values %$o;
    is($sum, $g{$f}{invocations}, "$f: the outcomes add up to invocations");
}

if ($wrap) {
    kill 'TERM', -$wrap;
    FaasTest::wait_for(sub { waitpid($wrap, POSIX::WNOHANG()) != 0 }, 5)
        or do { kill 'KILL', -$wrap; waitpid($wrap, 0) };
}

$t->done;

done_testing;
