#!/usr/bin/perl

# The runner's status through nginx's faas_status and through
# "fcgi-runner status": JSON, Prometheus text, OpenMetrics and a table.
# Every counter is checked against what the test drove: N requests are
# N invocations, k crashes k crashed, one cold start, the queue seen
# while a function is saturated, durations in the right buckets, CPU
# burnt, tenants the sums of their functions. The Prometheus text
# passes promtool, and a real Prometheus scrapes it and answers a query.
# Bad formats and names get 400 and 404; the runner stays up.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('ok', "exec = $fn\ntenant = acme\n");
$t->function('slow', "exec = $fn\ntenant = acme\nmax_instances = 1\n"
             . "queue = 8\n");
$t->function('crashy', "exec = $fn\ntenant = beta\n");
$t->function('burner', "exec = $fn\ntenant = beta\n");
$t->function('cgi', "exec = ./run.sh\nmode = cgi\ntenant = beta\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                         . "\\r\\n\\r\\nhi\\n'\n");

# and 300 more that nobody calls: a status of about a megabyte
$t->function("f$_", "exec = $fn\ntenant = many\n") for 1 .. 300;

$t->start_runner;
$t->start_nginx($t->faas_location(extra => <<'EOF'));
        location = /faas/status {
            faas_status;
            faas_pass runner;
            allow 127.0.0.1;
            deny all;
        }
EOF

sub which {
    my ($name) = @_;
    return (grep { -x } map { "$_/$name" } split /:/, $ENV{PATH})[0] // '';
}

sub status {
    my ($q) = @_;
    return $t->http_get('/faas/status' . ($q // ''));
}

sub json {
    my $r = status(@_);
    return undef unless $r && $r->{status} == 200;
    return eval { decode_json($r->{body}) };
}

sub func {
    my ($s, $name) = @_;
    return (grep { $_->{name} eq $name } @{ $s->{functions} })[0] // {};
}

sub tenant {
    my ($s, $name) = @_;
    return (grep { $_->{name} eq $name } @{ $s->{tenants} })[0] // {};
}

# --- drive --------------------------------------------------------------

is($t->http_get('/fn/ok?op=env')->{status}, 200, 'ok answers') for 1 .. 7;
is($t->http_get('/fn/crashy?op=crash')->{status}, 502, 'crashy: 502')
    for 1 .. 3;
is($t->http_get('/fn/cgi')->{status}, 200, 'cgi answers') for 1 .. 2;
is($t->http_get('/fn/burner?op=burn&ms=300')->{status}, 200,
   'burner burns 300 ms of CPU');
is($t->http_get('/fn/nosuch')->{status}, 404, 'unknown function: 404');

# saturate slow: one worker, four requests of 1.5 s; the status sees the
# other three waiting
my @s = map { $t->http_start('/fn/slow?op=sleep&ms=1500') } 1 .. 4;
my $during;
FaasTest::wait_for(sub {
    $during = json();
    return (func($during, 'slow')->{queue}{length} // 0) == 3
           && (func($during, 'slow')->{workers}{busy} // 0) == 1;
}, 10);
is(func($during, 'slow')->{queue}{length}, 3,
   'saturated: 3 waiting in the queue of slow');
is(func($during, 'slow')->{queue}{limit}, 8, '... of 8');
is_deeply(func($during, 'slow')->{limits},
          { max_instances => 1, min_instances => 0,
            memory_bytes => 256 * 1024 * 1024, timeout_seconds => 30,
            queue => 8, queue_timeout_seconds => 10 },
          'its limits: what function.conf said, the defaults for the rest');
is(func($during, 'slow')->{workers}{busy}, 1, '... its one worker busy');
is(tenant($during, 'acme')->{queue}{length}, 3,
   '... and in its tenant\'s queue');
my @r = map { FaasTest::http_finish($_, timeout => 20) } @s;
is(scalar(grep { $_ && $_->{status} == 200 } @r), 4, 'all four answered');

# --- JSON ---------------------------------------------------------------

my $r = status();
is($r->{status}, 200, 'status: 200');
is(FaasTest::header($r, 'content-type'), 'application/json',
   'application/json');
my $s = eval { decode_json($r->{body}) };
ok($s, 'the JSON parses') or diag($@);

is($s->{runner}{version}, '0.1.0', 'runner version');
is($s->{runner}{pid}, $t->runner_pid, 'runner pid');
cmp_ok($s->{runner}{uptime_seconds}, '>', 0, 'uptime');
cmp_ok(abs($s->{runner}{start_time} + $s->{runner}{uptime_seconds} - time),
       '<', 5, 'start time + uptime = now');
cmp_ok($s->{runner}{connections}{accepted}, '>=', 1, 'connections accepted');
is($s->{runner}{unrouted_requests}, 1, 'one request for no function');
is($s->{runner}{spawn_failures}, 0, 'no spawn failure');
is($s->{runner}{reloads}, 0, 'no reload');

# the runner's own sums of what DESIGN lists per runner, function and
# tenant: workers by state, queue, invocations by outcome, cold starts,
# durations, CPU, memory
{
    my %sum;
    for my $f (@{ $s->{functions} }) {
        $sum{"w$_"} += $f->{workers}{$_} for qw(starting idle busy stopping);
        $sum{"o$_"} += $f->{invocations}{$_} for keys %{ $f->{invocations} };
        $sum{cold} += $f->{cold_starts};
        $sum{queue} += $f->{queue}{length};
        $sum{cpu} += $f->{cpu_seconds};
        $sum{count} += $f->{duration}{count};
        $sum{peak} = $f->{memory_peak_bytes}
            if $f->{memory_peak_bytes} > ($sum{peak} // 0);
    }
    my $ru = $s->{runner};
    is(join(',', map { $ru->{workers}{$_} } qw(starting idle busy stopping)),
       join(',', map { $sum{"w$_"} } qw(starting idle busy stopping)),
       'runner: workers by state, the functions\' sums');
    is($ru->{invocations}{ok}, $sum{ook}, 'runner: invocations ok, summed');
    is($ru->{invocations}{not_found} // -1, $sum{onot_found} // 0,
       '... every outcome there');
    is($ru->{cold_starts}, $sum{cold}, 'runner: cold starts');
    is($ru->{queue}{length}, $sum{queue}, 'runner: queue length');
    cmp_ok(abs($ru->{cpu_seconds} - $sum{cpu}), '<', 0.001, 'runner: CPU');
    is($ru->{memory_peak_bytes}, $sum{peak}, 'runner: the largest peak');
    ok(defined $ru->{duration}{sum_seconds}, 'runner: durations');
    is($ru->{duration}{count}, $sum{count}, '... and their count');
    ok($ru->{invocations}{ok} > 0, '... which are some');
}

my $ok = func($s, 'ok');
is($ok->{tenant}, 'acme', 'ok: its tenant');
is($ok->{mode}, 'fastcgi', 'ok: its mode');
is($ok->{invocations}{ok}, 7, 'ok: 7 requests, 7 invocations ok');
is($ok->{invocations}{crashed}, 0, 'ok: none crashed');
is($ok->{cold_starts}, 1, 'ok: one cold start');
is($ok->{init}{count}, 1, 'ok: one worker started');
cmp_ok($ok->{init}{sum_seconds}, '>', 0, 'ok: its start time');
is($ok->{duration}{count}, 7, 'ok: 7 durations');
is($ok->{duration}{buckets}{'+Inf'}, 7, 'ok: all under +Inf');
is($ok->{workers}{idle}, 1, 'ok: one idle worker');

my $cr = func($s, 'crashy');
is($cr->{invocations}{crashed}, 3, 'crashy: 3 crashes, 3 crashed');
is($cr->{invocations}{ok}, 0, 'crashy: none ok');
is($cr->{worker_stops}{crashed}, 3, 'crashy: 3 workers stopped, crashed');
is($cr->{cold_starts}, 3, 'crashy: each on a fresh worker');

my $sl = func($s, 'slow');
is($sl->{invocations}{ok}, 4, 'slow: 4 invocations');
is($sl->{duration}{buckets}{'1'}, 0, 'slow: none within 1 s');
is($sl->{duration}{buckets}{'2.5'}, 4, 'slow: all four within 2.5 s');
cmp_ok($sl->{duration}{sum_seconds}, '>=', 6, 'slow: 4 x 1.5 s summed');

my $cg = func($s, 'cgi');
is($cg->{mode}, 'cgi', 'cgi: its mode');
is($cg->{invocations}{ok}, 2, 'cgi: 2 invocations');
is($cg->{cold_starts}, 2, 'cgi: every one cold');

my $bu = func($s, 'burner');
cmp_ok($bu->{cpu_seconds}, '>=', 0.25, "burner: CPU seconds counted "
       . "($bu->{cpu_seconds})");
cmp_ok($bu->{memory_peak_bytes}, '>', 100_000, 'burner: its peak memory');

my $acme = tenant($s, 'acme');
is($acme->{functions}, 2, 'tenant acme: 2 functions');
is($acme->{invocations}{ok}, 11, 'tenant acme: 7 + 4 invocations');
my $beta = tenant($s, 'beta');
is($beta->{invocations}{crashed}, 3, 'tenant beta: the 3 crashes');
is($beta->{invocations}{ok}, 3, 'tenant beta: burner + 2 cgi');

# --- one function ---------------------------------------------------------

my $one = json('?function=ok');
is(scalar @{ $one->{functions} }, 1, '?function=ok: one function');
is($one->{functions}[0]{name}, 'ok', '... ok');
is($one->{tenants}[0]{name}, 'acme', '... and its tenant');

# --- Prometheus text ------------------------------------------------------

$r = status('?format=prometheus');
is($r->{status}, 200, 'prometheus: 200');
is(FaasTest::header($r, 'content-type'),
   'text/plain; version=0.0.4; charset=utf-8', 'its content type');
my $prom = $r->{body};
like($prom, qr/^faas_function_invocations_total\{function="ok",tenant="acme",outcome="ok"\} 7$/m,
     'invocations_total of ok');
like($prom, qr/^faas_function_invocations_total\{function="crashy",tenant="beta",outcome="crashed"\} 3$/m,
     'crashed of crashy');
like($prom, qr/^faas_function_duration_seconds_bucket\{function="slow",tenant="acme",le="2\.5"\} 4$/m,
     'histogram bucket');
like($prom, qr/^faas_tenant_invocations_total\{tenant="acme",outcome="ok"\} 11$/m,
     'tenant sum');
like($prom, qr/^# TYPE faas_function_invocations_total counter$/m,
     'counter TYPE named by its sample');
like($prom, qr/^faas_runner_info\{version="0\.1\.0",pid="\d+"\} 1$/m,
     'runner info');

{
    my $promtool = which('promtool');
    ok($promtool, 'promtool is installed') or diag('make test-deps installs '
       . 'the prometheus package');
    if ($promtool) {
        my $file = $t->prefix . '/metrics.txt';
        FaasTest::write_file($file, $prom);
        my $out = `$promtool check metrics < $file 2>&1`;
        is($?, 0, 'promtool check metrics: clean') or diag($out);
    }
}

# the README's alerts are valid PromQL rules
{
    my $promtool = which('promtool');
    my ($rules) = FaasTest::read_file("$FaasTest::ROOT/README.md")
                  =~ /Five alerts worth having.*?```yaml\n(.*?)```/s;
    ok($rules, "the README's alerts");
    if ($promtool && $rules) {
        $rules =~ s/^/    /mg;
        my $file = $t->prefix . '/rules.yml';
        FaasTest::write_file($file, "groups:\n  - name: faas\n    rules:\n"
                             . $rules);
        my $out = `$promtool check rules $file 2>&1`;
        is($?, 0, 'promtool check rules: they parse') or diag($out);
    }
}

# --- OpenMetrics ----------------------------------------------------------

$r = status('?format=openmetrics');
is($r->{status}, 200, 'openmetrics: 200');
like(FaasTest::header($r, 'content-type'),
     qr{^application/openmetrics-text; version=1\.0\.0}, 'its content type');
like($r->{body}, qr/\n# EOF\n\z/, 'ends with # EOF');
like($r->{body}, qr/^# TYPE faas_function_invocations counter$/m,
     'counter family without _total');
like($r->{body}, qr/^# TYPE faas_runner info$/m, 'info family');
like($r->{body}, qr/^faas_function_invocations_total\{function="ok",tenant="acme",outcome="ok"\} 7$/m,
     'samples with _total');
# OpenMetrics' canonical numbers in le: "1.0", never "1"
{
    my @le = $r->{body} =~ /^faas_function_duration_seconds_bucket\{function="slow",[^}]*le="([^"]+)"\}/mg;
    is(scalar @le, 15, 'fifteen buckets');
    is(scalar(grep { !/^(\+Inf|\d+\.\d+)$/ } @le), 0,
       'each le canonical (' . join(' ', @le) . ')');
    like($r->{body}, qr/^faas_function_duration_seconds_bucket\{function="slow",tenant="acme",le="1\.0"\} 0$/m,
         '... le="1.0"');
}

# --- big, and a client that does not read it ----------------------------

{
    cmp_ok(length($prom), '>', 512 * 1024, 'with 305 functions, more than '
           . '512 KiB of metrics (' . int(length($prom) / 1024) . ' KiB)');
    like($prom, qr/^# TYPE faas_tenant_oom_kills_total counter\n(?#
                   )(faas_tenant_oom_kills_total\{tenant="[^"]+"\} \d+\n)*\z/m,
         '... whole, to its last family');
    my $n = () = $prom =~ /^faas_function_spawn_failures_total\{/mg;
    is($n, 305, '... one for each function');

    # asks for it and never reads: the runner goes on serving others
    my @stuck = map {
        my $c = $t->fcgi_connect;
        print $c FaasTest::fcgi_request_bytes(
            params => [ FAAS_STATUS => 1, REQUEST_METHOD => 'GET',
                        QUERY_STRING => 'format=prometheus' ], keep => 0);
        $c;
    } 1 .. 3;
    sleep 0.5;
    is($t->http_get('/fn/f1?op=env')->{status}, 200,
       'three clients not reading their status: a function answers');
    is(status('?format=json')->{status}, 200, '... and so does the status');
    close $_ for @stuck;
}

# --- table ------------------------------------------------------------------

$r = status('?format=table');
like($r->{body}, qr/^fcgi-runner 0\.1\.0  pid \d+/, 'table: the runner');
like($r->{body}, qr/^FUNCTION\s+TENANT\s+MODE\s+BUSY/m, 'table: header');
like($r->{body}, qr/^ok\s+acme\s+fastcgi\s+0\s+1\s/m, 'table: ok\'s line');

# --- bad input ---------------------------------------------------------------

is(status('?format=xml')->{status}, 400, 'unknown format: 400');
like(status('?format=xml')->{body}, qr/^format: json, prometheus/,
     '... naming the formats');
# a provider shows a customer its own functions only
my $mine = json('?tenant=beta');
is(join(',', sort map { $_->{name} } @{ $mine->{functions} }),
   'burner,cgi,crashy', '?tenant=beta: its functions only');
is(join(',', map { $_->{name} } @{ $mine->{tenants} }), 'beta',
   '... and itself only');
unlike(status('?tenant=beta&format=prometheus')->{body}, qr/acme|many/,
       '... in Prometheus text too');
# ... and none of the host's figures (other tenants' workers, the
# store's invocations of all, connections, reloads)
my $all = json();
ok(defined $all->{runner}{pid} && defined $all->{runner}{connections}{open}
   && defined $all->{runner}{async_invocations}{queued},
   'the whole view has the host\'s figures');
is(join(',', map { $_ // 'null' } $mine->{runner}{pid},
        $mine->{runner}{connections}{open}, $mine->{runner}{workers}{total},
        $mine->{runner}{reloads}, $mine->{runner}{async_invocations}{queued},
        $mine->{runner}{prototypes}{live}),
   'null,null,null,null,null,null', '?tenant=beta: none of them (null)');
is($mine->{runner}{invocations}{ok}, $mine->{tenants}[0]{invocations}{ok},
   '... its sums are its own');
my $mprom = status('?tenant=beta&format=prometheus')->{body};
unlike($mprom, qr/^faas_runner_(?:connections|workers|reloads|async_)/m,
       '... nor in Prometheus text');
like($mprom, qr/^faas_runner_info\{version="[^"]+",pid="-"\} 1$/m,
     '... whose info has no pid');
my $mtab = status('?tenant=beta&format=table')->{body};
unlike($mtab, qr/pid|connections|reloads/, '... nor in the table');
is(status('?tenant=nosuch')->{status}, 404, 'unknown tenant: 404');
is(status('?tenant=../x')->{status}, 404, 'invalid tenant name: 404');
is(status('?tenant=beta&tenant=acme')->{status}, 400,
   'two tenants asked (a location\'s and a client\'s): 400, neither shown');
is(status('?tenant=beta&tenant=beta')->{status}, 200, '... the same twice: 200');
$r = status('?format=json&function=ok&function=crashy');
is($r->{status}, 400, 'two functions asked: 400');
is($r->{body}, "one function and one tenant at most\n", '... saying so');
is(status('?function=../x')->{status}, 404, 'invalid name: 404');
is(status('?function=nosuch')->{status}, 404, 'unknown function: 404');
is(status('?' . ('a=b&' x 2000))->{status}, 200, 'a long query: 200');
is(status('?format=prometheus&format=json')->{status}, 200,
   'format twice: the last wins');

# --- fcgi-runner status --------------------------------------------------------

my $bin = $t->runner_bin_name;
my $listen = 'unix:' . $t->socket_path;

my $out = `$bin status --listen $listen --format json 2>&1`;
is($?, 0, 'fcgi-runner status --format json: exit 0');
my $cj = eval { decode_json($out) };
is(func($cj, 'ok')->{invocations}{ok}, 7, '... the same counters');

$out = `$bin status --listen $listen --format prometheus 2>&1`;
like($out, qr/^faas_function_invocations_total\{function="ok",tenant="acme",outcome="ok"\} 7$/m,
     'fcgi-runner status --format prometheus');

$out = `$bin status --listen $listen 2>&1`;
like($out, qr/^FUNCTION\s+TENANT/m, 'fcgi-runner status: a table');
my @lines = grep { /^\w/ && !/^(FUNCTION|fcgi-runner)/ } split /\n/, $out;
like($lines[0], qr/^ok\s/, 'busiest, then most invoked, first: ok');

$out = `$bin status --listen $listen --format json --function slow 2>&1`;
$cj = eval { decode_json($out) };
is(join(',', map { $_->{name} } @{ $cj->{functions} }), 'slow',
   '--function slow');

$out = `$bin status --listen $listen --format json --tenant beta 2>&1`;
$cj = eval { decode_json($out) };
is(join(',', sort map { $_->{name} } @{ $cj->{functions} }),
   'burner,cgi,crashy', '--tenant beta: its functions');
is(join(',', map { $_->{name} } @{ $cj->{tenants} }), 'beta', '... itself');
$out = `$bin status --listen $listen --tenant 'a&function=ok' 2>&1`;
is($? >> 8, 2, '--tenant with a & in it: a usage error');
$out = `$bin status --listen $listen --function ok --function slow 2>&1`;
is($? >> 8, 2, '--function twice: a usage error');
like($out, qr/--function once/, '... saying so');

$out = `$bin status --listen $listen --function nosuch 2>&1`;
isnt($?, 0, '--function nosuch: fails');
like($out, qr/404 no such function or tenant/, '... and says why');

# a format that is none is a usage error (2), said before any question
$out = `$bin status --listen unix:/nonexistent/sock --format bogus 2>&1`;
is($? >> 8, 2, '--format bogus: exit 2, a usage error');
like($out, qr/invalid --format "bogus": table, json, prometheus, (?x)
              openmetrics\ or\ html/, '... naming the formats');
for my $f (qw(table json prometheus openmetrics html)) {
    `$bin status --listen $listen --format $f >/dev/null 2>&1`;
    is($?, 0, "--format $f: exit 0");
}

# a config it cannot read is a failure (1, as --test), said; not usage
$out = `$bin status --config /nonexistent/runner.conf 2>&1`;
is($? >> 8, 1, '--config of no file: exit 1');
like($out, qr{open\(\) "/nonexistent/runner.conf" failed}, '... said');
FaasTest::write_file($t->prefix . '/bad.conf', "listen = \n");
$out = `$bin status --config @{[ $t->prefix ]}/bad.conf 2>&1`;
is($? >> 8, 1, '--config with a bad line: exit 1');
like($out, qr{bad\.conf:1}, '... its line said');

$out = `$bin status --listen unix:/nonexistent/sock 2>&1`;
isnt($?, 0, 'no runner there: fails');
like($out, qr/cannot connect to "unix:\/nonexistent\/sock"/, '... and says so');

# on a terminal (script(1) gives it one) the screen is cleared each time;
# into a file or pipe, or in another format, snapshots follow each other
$out = `timeout 2.5 script -qfec '$bin status --listen $listen --watch 1' /dev/null 2>&1`;
my $screens = () = $out =~ /\e\[H\e\[2J/g;
cmp_ok($screens, '>=', 2, "--watch 1: the screen refreshed ($screens in 2.5 s)");
for my $f ('table', 'json') {
    $out = `timeout 2.5 $bin status --listen $listen --format $f --watch 1 2>&1`;
    my $snaps = () = $out =~ /^(?:FUNCTION|\{"runner")/mg;
    ok($snaps >= 2 && $out !~ /\e/, "--watch 1 --format $f into a pipe: "
       . "$snaps snapshots, no terminal codes");
}
for my $w ('0', '0.5', '1x', '1e9', '', '999999') {
    $out = `timeout 5 $bin status --listen $listen --watch '$w' 2>&1`;
    is($? >> 8, 2, "--watch '$w': a usage error");
}

# --- a real Prometheus scrapes it -----------------------------------------------

{
    my $prometheus = which('prometheus');
    ok($prometheus, 'prometheus is installed') or diag('make test-deps installs it');

    if ($prometheus) {
        my $pport = FaasTest::free_port();
        my $dir = $t->prefix . '/prometheus';
        mkdir $dir;
        FaasTest::write_file("$dir/prometheus.yml", <<"EOF");
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: faas
    metrics_path: /faas/status
    params:
      format: [prometheus]
    static_configs:
      - targets: ['127.0.0.1:$t->{port}']
  - job_name: by_accept
    metrics_path: /faas/status
    static_configs:
      - targets: ['127.0.0.1:$t->{port}']
EOF
        my $pid = fork;
        if ($pid == 0) {
            open STDOUT, '>', "$dir/log";
            open STDERR, '>&', \*STDOUT;
            exec $prometheus, "--config.file=$dir/prometheus.yml",
                 "--storage.tsdb.path=$dir/data",
                 "--web.listen-address=127.0.0.1:$pport";
            exit 127;
        }

        # each job's: ?format=prometheus, and no format (its Accept
        # asks for OpenMetrics)
        for my $job ('faas', 'by_accept') {
            my $value;
            FaasTest::wait_for(sub {
                my $sock = IO::Socket::INET->new(
                    PeerAddr => "127.0.0.1:$pport", Timeout => 2) or return 0;
                print $sock "GET /api/v1/query?query=sum(faas_function_"
                    . "invocations_total%7Bfunction%3D%22ok%22%2Cjob%3D%22"
                    . "$job%22%7D) HTTP/1.0\r\nHost: localhost\r\n\r\n";
                local $/;
                my $resp = <$sock> // '';
                ($value) = $resp =~ /"value":\[[\d.]+,"(\d+)"\]/;
                return defined $value;
            }, 30);

            is($value, 7, "Prometheus scraped it ($job): sum of ok's "
                          . 'invocations is 7')
                or diag(FaasTest::read_file("$dir/log"));
        }

        kill 'TERM', $pid;
        my $gone = FaasTest::wait_for(sub { waitpid($pid, WNOHANG) == $pid },
                                      10);
        unless ($gone) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
        }
    }
}

# names as long as they may be, two alike in their first 24 characters:
# the table shows them whole
my $long = 'customer-api-production-';
$t->function("${long}v1", "exec = $fn\ntenant = " . ('t' x 64) . "\n");
$t->function("${long}v2", "exec = $fn\ntenant = acme\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /"${long}v2" loaded/ }, 10),
   'two long names loaded');
$out = `$bin status --listen $listen 2>&1`;
like($out, qr/^${long}v1 +${\('t' x 64)} +fastcgi /m,
     'the table: a long name and a 64-character tenant whole');
like($out, qr/^${long}v2 +acme +fastcgi /m, '... the other told apart');

# a function removed while a request of it runs, and back before that
# ends: two of the name in the runner a while (the old one drains), one
# row and one series of it in the status
{
    my $dir = $t->function('phoenix', "exec = ./run.sh\nmode = cgi\n"
                           . "tenant = acme\n",
                           'run.sh' => "#!/bin/sh\nsleep 3\nprintf "
                                     . "'Content-Type: text/plain\\r\\n"
                                     . "\\r\\nrisen\\n'\n");
    $t->signal_runner('HUP');
    FaasTest::wait_for(sub { $t->runner_log =~ /"phoenix" loaded/ }, 10);
    my $req = $t->http_start('/fn/phoenix');
    FaasTest::wait_for(sub { func(json(), 'phoenix')->{workers}{busy} }, 5);
    rename $dir, "$dir.away" or die "rename: $!";
    $t->signal_runner('HUP');
    sleep 1;                        # the reload that removes it
    rename "$dir.away", $dir or die "rename: $!";
    $t->signal_runner('HUP');
    ok(FaasTest::wait_for(sub {
           (() = $t->runner_log =~ /function "phoenix" loaded/g) >= 2 }, 10),
       'a function removed mid-request and put back: loaded again');
    my $js = json();
    is(scalar(grep { $_->{name} eq 'phoenix' } @{ $js->{functions} }), 1,
       '... one row of it in the JSON while the old one drains');
    my $prom = status('?format=prometheus')->{body};
    my @series = $prom =~ /^faas_function_invocations_total\{function="phoenix",[^}]*outcome="ok"\}/mg;
    is(scalar @series, 1, '... one series of it in Prometheus')
        or diag(join "\n", grep { /phoenix/ } split /\n/, $prom);
    my $a = FaasTest::http_finish($req, timeout => 10);
    is($a && $a->{body}, "risen\n", '... the request in flight answered');
}

# the status requests were not counted as invocations or unrouted ones
$s = json();
is($s->{runner}{unrouted_requests}, 1, 'status requests are not unrouted');
ok(kill(0, $t->runner_pid), 'the runner is up');

$t->done;

done_testing;
