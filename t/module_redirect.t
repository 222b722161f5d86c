#!/usr/bin/perl

# What nginx does after a function's run, and what the module sends on:
# - an internal redirect (error_page) empties a request's module
#   contexts; the log line still bills the run that went before it
#   (function, tenant, outcome, duration, CPU), and a redirect that runs
#   another function bills that one in meter_log, never one in both;
# - a filter that answers in the run's place (image_filter's 415: nginx
#   empties the contexts there too, and stops reading the answer) leaves
#   the run named on the line and billed once, in meter_log;
# - a location's own faas_function is not overruled by the server's
#   faas_route;
# - a 204 from a function goes out with no Content-Length and no body,
#   and the connection stays usable;
# - the runner too slow to connect to is an error of nginx's, not a
#   run's timeout.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use IO::Socket::INET;
use Socket qw(SOMAXCONN);
use Test::More;

my $t = FaasTest->new;
my $p = $t->prefix;
my $log = "$p/logs/faas.log";
my $meter = "$p/meter.log";

# a FastCGI worker's status nginx refuses ("2000"): nginx's own 502
$t->function('bad', "exec = @{[ $t->testfn ]}\ntenant = acme\n");
$t->ok_function('sorry', "tenant = acme\n");
# slower than nginx waits: its run is the runner's to meter
$t->function('slow', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nsleep 2\nprintf 'Content-Type: "
                       . "text/plain\\r\\n\\r\\nlate\\n'\n");
$t->function('users', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                       . "\\r\\n\\r\\nusers\\n'\n");
$t->function('api', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                       . "\\r\\n\\r\\napi\\n'\n");
# no image: image_filter answers 415 in its place. pic's end (and its
# measurements) comes a second after its body: nginx has stopped
# reading by then. picnow's may come with its body, in one read:
# nginx has them before the filter answers, and its line bills the run
$t->function('pic', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                       . "\\r\\n\\r\\nno image\\n'\nsleep 1\n");
$t->function('picnow', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                       . "\\r\\n\\r\\nno image\\n'\n");
$t->function('nocontent', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'Status: 204 No Content\\r\\n"
                       . "Content-Length: 5\\r\\n\\r\\nhello'\n");

# a redirect of its own, acted on where faas_accel_headers is on
$t->function('accel', "exec = ./run.sh\nmode = cgi\ntenant = acme\n",
             'run.sh' => "#!/bin/sh\nprintf 'X-Accel-Redirect: "
                       . "/50x.html\\r\\n\\r\\n'\n");

mkdir "$p/html";
FaasTest::write_file("$p/html/50x.html", "sorry, static\n");

# a TCP "runner" whose queue is full: nginx's connect never completes
my $full = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                 LocalPort => 0, ReuseAddr => 1)
    or die "listen: $!";
my $full_port = $full->sockport;
my @fillers;
for (1 .. 4) {
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$full_port",
                                  Blocking => 0);
    push @fillers, $c if $c;
}

$t->start_runner(conf => "meter_log = $meter\n");
my $sock = $t->socket_path;
$t->{port} = FaasTest::free_port();

# a filter that finalizes the response itself (image_filter's 415 for
# what is no image) empties the module's context as a redirect does
my $image_so = '/usr/lib/nginx/modules/ngx_http_image_filter_module.so';
my $image = -f $image_so && $t->nginx_binary eq 'nginx';
$t->{nginx_main} = "load_module $image_so;\n" if $image;
my $image_loc = !$image ? '' : <<'EOF2';
        location /img/ {
            faas_route ^/img/(?<name>[a-z]+)$ $name;
            faas_pass runner;
            image_filter test;
        }
EOF2
$t->start_nginx(FaasTest::meter_log_format() . <<"EOF");

    upstream runner { server unix:$sock; keepalive 8; }

    server {
        listen 127.0.0.1:$t->{port};
        access_log $log faas_meter;

        faas_route ^/srv/(?<srvfn>[a-z]+)/ \$srvfn;

        location /fn/ {
            faas_route ^/fn/(?<name>[a-z]+)\$ \$name;
            faas_pass runner;
            error_page 404 502 /50x.html;
            add_header X-Fn \$faas_function always;
        }

        location /impatient/ {
            faas_route ^/impatient/(?<name>[a-z]+)\$ \$name;
            faas_pass runner;
            faas_read_timeout 500ms;
            error_page 504 =503 /50x.html;
        }

        location /again/ {
            faas_route ^/again/(?<name>[a-z]+)\$ \$name;
            faas_pass runner;
            error_page 502 /fn/sorry;
        }

        location /acc/ {
            faas_route ^/acc/(?<name>[a-z]+)\$ \$name;
            faas_accel_headers on;
            faas_pass runner;
        }

$image_loc
        location = /50x.html {
            root $p/html;
        }

        location = /srv/api/users {
            faas_function users;
            faas_pass runner;
        }

        location /srv/ {
            faas_pass runner;
        }

        location /stuck/ {
            faas_function sorry;
            faas_pass 127.0.0.1:$full_port;
            faas_connect_timeout 500ms;
        }
    }
EOF

my $n = 0;

# the $i-th line of the access log, as a hash
sub logged { FaasTest::log_line($log, $_[0]) }

sub get {
    my ($uri) = @_;
    my $r = $t->http_get($uri);
    return ($r, logged(++$n));
}

# --- error_page to a static page after a run ---------------------------

my ($r, $l) = get('/fn/bad?op=bigstatus');
is($r->{status}, 502, 'a status nginx refuses: 502');
is($r->{body}, "sorry, static\n", '... the error_page') or diag($r->{raw});
is($l->{function}, 'bad', 'its line names the function that ran');
is($l->{tenant}, 'acme', '... its tenant');
is($l->{outcome}, 'error', '... the outcome');
ok($l->{duration} =~ /^\d+\.\d{3}$/ && $l->{duration} > 0,
   "... and bills its run (duration $l->{duration})");
ok($l->{cpu} =~ /^\d+\.\d{3}$/, "... its CPU ($l->{cpu})");
like($l->{worker}, qr/^\d+$/, '... its worker');

($r, $l) = get('/fn/NOT-a-route');
is($r->{status}, 404, 'no route: 404');
is($r->{body}, "sorry, static\n", '... the error_page');
is($l->{outcome}, 'not_found', '... outcome not_found kept');

($r, $l) = get('/acc/accel');
is($r->{status}, 200, 'X-Accel-Redirect acted on: 200');
is($r->{body}, "sorry, static\n", '... the page it names');
is($l->{function}, 'accel', '... its line names the function');
is($l->{outcome}, 'ok', '... its outcome');
ok($l->{duration} =~ /^\d+\.\d{3}$/, "... its run billed ($l->{duration})");

# --- error_page into another function ----------------------------------

($r, $l) = get('/again/bad?op=bigstatus');
is($r->{status}, 502, 'error_page into a function: the status kept');
is($r->{body}, "ok\n", '... the second function answered')
    or diag($r->{raw});
is(FaasTest::header($r, 'X-Fn'), 'sorry',
   '... $faas_function during its run is its own (an upstream hash key, '
   . 'a header)');
is($l->{function}, 'bad', 'the line bills the first run');
is($l->{outcome}, 'error', '... its outcome');
ok($l->{duration} > 0, '... its duration');

ok(FaasTest::wait_for(sub {
       (FaasTest::read_file($meter) // '') =~ /function=sorry\b/ }, 10),
   'the second run is in meter_log') or diag(FaasTest::read_file($meter));
my @sub = grep { /function=sorry\b/ } split /\n/,
          (FaasTest::read_file($meter) // '');
is(scalar @sub, 1, '... once');
like($sub[0] // '', qr/ trigger=subrequest\b/, '... as a subrequest');
like($sub[0] // '', qr/ outcome=ok\b/, '... its outcome');

# --- nginx gave up waiting, then error_page answered another status --

($r, $l) = get('/impatient/slow');
is($r->{status}, 503, 'faas_read_timeout, error_page 504 =503: 503');
is($l->{outcome}, '-', '... the line says no outcome (nginx gave up, the '
   . 'runner meters the run), not error');
ok(FaasTest::wait_for(sub {
       (FaasTest::read_file($meter) // '') =~ /function=slow\b/ }, 10),
   '... the run in meter_log');

# fcgi-runner meter counts each run once
my $report = `$FaasTest::BUILD/fcgi-runner meter --format csv $log $meter`;
my %inv = map { /^([a-z]+),(\d+),/ ? ($1, $2) : () } split /\n/, $report;
is($inv{accel}, 1, 'meter: the run of accel');
unlike(FaasTest::read_file($meter) // '', qr/function=accel\b/,
       '... in the access log, not in meter_log');
is($inv{bad}, 2, 'meter: the two runs of bad') or diag($report);
is($inv{sorry}, 1, 'meter: the one run of sorry, not in both logs');
is($inv{slow}, 1, 'meter: the one run of slow, not in both logs');

# --- a location's function and the server's routes ---------------------

($r, $l) = get('/srv/api/users');
is($r->{body}, "users\n", "a location's own faas_function wins over the "
   . "server's route");
is($l->{function}, 'users', '... and is logged');
($r, $l) = get('/srv/api/other');
is($r->{body}, "api\n", "the server's route where the location has none");

# --- a filter's own finalization ----------------------------------------

SKIP: {
    skip 'no image_filter module (make test-deps installs '
         . 'libnginx-mod-http-image-filter) or not Debian\'s nginx', 11
        unless $image;
    ($r, $l) = get('/img/pic');
    is($r->{status}, 415, 'image_filter test on a text answer: 415');
    is($l->{function}, 'pic', '... its line names the function that ran');
    is($l->{outcome}, '-', '... with no outcome: nginx left before the '
       . 'measurements came');
    ok(FaasTest::wait_for(sub {
           (FaasTest::read_file($meter) // '') =~ /function=pic\b/ }, 10),
       '... the runner billed the run in meter_log');
    my @u = grep { /function=pic\b/ } split /\n/,
            (FaasTest::read_file($meter) // '');
    is(scalar @u, 1, '... once');
    like("@u", qr/^\S+ function=pic .* duration=\d+\.\d{3} .* (?x)
                  trigger=http\b/, '... with its figures');
    my $rep = `$FaasTest::BUILD/fcgi-runner meter --format csv $log $meter`;
    my ($inv) = $rep =~ /^pic,(\d+),/m;
    is($inv, 1, '... fcgi-runner meter counts it once') or diag($rep);

    # whichever way it came: billed once, on nginx's line or in meter_log
    ($r, $l) = get('/img/picnow');
    is($r->{status}, 415, 'an answer whole at once: 415');
    my $where = $l->{outcome} eq '-' ? 'meter_log' : 'access_log';
    if ($where eq 'access_log') {
        is($l->{outcome}, 'ok', '... nginx had its measurements');
        ok($l->{duration} =~ /^\d+\.\d{3}$/, "... on its line "
           . "($l->{duration})");
    } else {
        ok(FaasTest::wait_for(sub {
               (FaasTest::read_file($meter) // '') =~ /function=picnow\b/ },
               10), '... nginx had not: the runner billed it in meter_log');
        pass('... (not on the line)');
    }
    $rep = `$FaasTest::BUILD/fcgi-runner meter --format csv $log $meter`;
    ($inv) = $rep =~ /^picnow,(\d+),/m;
    is($inv, 1, "... fcgi-runner meter counts it once ($where)")
        or diag($rep);
}

# --- 204 ----------------------------------------------------------------

my $raw = '';
{
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Timeout => 5) or die "connect: $!";
    my $two = "GET /fn/nocontent HTTP/1.1\r\nHost: localhost\r\n\r\n"
            . "GET /fn/sorry HTTP/1.1\r\nHost: localhost\r\n"
            . "Connection: close\r\n\r\n";
    syswrite($s, $two);
    $s->blocking(0);
    my $sel = IO::Select->new($s);
    my $end = time + 10;
    while (time < $end && $sel->can_read(1)) {
        my $got = sysread($s, my $buf, 65536);
        last unless $got;
        $raw .= $buf;
    }
}
$n += 2;
my ($first, $rest) = split /\r\n\r\n/, $raw, 2;
like($first // '', qr{^HTTP/1\.1 204 }, '204: its status');
unlike($first // '', qr/^Content-Length:/mi, '... no Content-Length');
unlike($first // '', qr/^Transfer-Encoding:/mi, '... nor chunks');
like($rest // '', qr{^HTTP/1\.1 200 }, '... the next response right after '
     . 'it, on the same connection (no body in between)');
like($rest // '', qr/\r\n\r\n3\r\nok\n\r\n0\r\n\r\n$/, '... whole');

# --- the runner unreachable in time: nothing ran -----------------------

SKIP: {
    my $r0 = $t->http_get('/stuck/x', timeout => 15);
    skip 'the full queue took the connection on this kernel', 2
        unless $r0 && $r0->{status} == 504;
    is($r0->{status}, 504, 'connect timeout: 504');
    $l = logged(++$n);
    is($l->{outcome}, 'error', '... outcome error, not a run\'s timeout');
}

unlike($t->error_log, qr/\[(alert|emerg)\]/, 'no alert in the error log');

$t->done;
done_testing;
