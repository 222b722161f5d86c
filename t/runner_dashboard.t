#!/usr/bin/perl

# The live dashboard: faas_status?format=html (and a browser's Accept:
# text/html) served by nginx and the runner, and "fcgi-runner status
# --format html". Without JavaScript the runner's snapshot holds every
# figure; in headless Chromium the page polls the JSON and redraws it:
# the DOM holds the counts of the functions the test drove (equal to
# the JSON), a page of 50 of 62 functions, names at the limits of the
# rules as text, nothing on the console, and charts that are drawn;
# clicks on a column's head sort, the filter filters, pages turn. A
# function named "constructor" of a tenant "toString" (names a plain
# object has) stops no poll.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use FaasBrowser;
use Test::More;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

FaasTest::need(FaasBrowser::binary(), 'chromium (make test-deps installs it)');

my $t = FaasTest->new;
my $fn = $t->testfn;

# names at the limits of the rules: 64 characters, a digit first, - and _
my $long = '9' . ('-_aZ' x 15) . 'end';
my $ten = 'T' . ('_-9z' x 15) . 'end';
is(length $long, 64, 'a 64-character function name');
is(length $ten, 64, 'a 64-character tenant name');

$t->function('ok', "exec = $fn\ntenant = acme\n");
$t->function('crashy', "exec = $fn\ntenant = beta\n");
$t->function($long, "exec = $fn\ntenant = $ten\n");
# names a plain JavaScript object already has: the page keys by them
$t->function('constructor', "exec = $fn\ntenant = toString\n");
$t->function(sprintf('idle%02d', $_), "exec = $fn\ntenant = many\n")
    for 2 .. 59;

$t->start_runner;
my $slog = $t->prefix . '/status.log';
$t->start_nginx(FaasTest::meter_log_format()
                . $t->faas_location(extra => <<"EOF"));
        location = /faas/status {
            faas_status;
            faas_pass runner;
            access_log $slog faas_meter;
        }
EOF

my $base = "http://127.0.0.1:$t->{port}";

sub json {
    my $r = $t->http_get('/faas/status?format=json');
    return $r && $r->{status} == 200 ? decode_json($r->{body}) : undef;
}

sub named {
    my ($list, $name) = @_;
    return (grep { $_->{name} eq $name } @$list)[0] // {};
}

sub total { my $n = 0; $n += $_ for values %{ $_[0] }; $n }

# the cells of the row of $name in a table body: class => text
sub row {
    my ($html, $body, $name) = @_;
    my ($tbody) = $html =~ m{<tbody id="$body">(.*?)</tbody>}s or return {};
    my $q = quotemeta $name;
    my ($tr) = $tbody =~ m{<tr data-name="$q">(.*?)</tr>}s or return {};
    my %c;
    while ($tr =~ m{<td class="([^"]+)">(.*?)</td>}gs) {
        $c{$1} = $2;
    }
    return \%c;
}

# --- drive -------------------------------------------------------------

is($t->http_get('/fn/ok?op=env')->{status}, 200, 'ok answers') for 1 .. 6;
is($t->http_get('/fn/crashy?op=crash')->{status}, 502, 'crashy: 502')
    for 1 .. 2;
is($t->http_get("/fn/$long?op=env")->{status}, 200, 'the long name answers')
    for 1 .. 3;

my $s = json();
ok($s, 'the JSON status');

# --- the answer ---------------------------------------------------------

my $r = $t->http_get('/faas/status?format=html');
is($r->{status}, 200, 'format=html: 200');
like(FaasTest::header($r, 'content-type'), qr{^text/html}, 'text/html');
like(FaasTest::header($r, 'content-security-policy') // '',
     qr/default-src 'none'.*connect-src 'self'/, 'a strict CSP');
unlike($r->{body}, qr{<(?:script|link|img|iframe)[^>]+src=}i,
       'nothing fetched from elsewhere');
unlike($r->{body}, qr{https?://(?!www\.w3\.org/2000/svg)}, 'no URL');

$r = $t->http_get('/faas/status',
                  headers => "Accept: text/html,application/xhtml+xml,"
                             . "*/*;q=0.8\r\n");
like(FaasTest::header($r, 'content-type'), qr{^text/html}, 'Accept: text/html');
is(FaasTest::header($r, 'vary'), 'Accept', 'Vary: Accept');
$r = $t->http_get('/faas/status', headers => "Accept: */*\r\n");
like(FaasTest::header($r, 'content-type'), qr{^application/json},
     '*/* gets JSON');
$r = $t->http_get('/faas/status?format=json',
                  headers => "Accept: text/html\r\n");
like(FaasTest::header($r, 'content-type'), qr{^application/json},
     'an asked format wins over Accept');

# Accept as RFC 9110 reads it: qualities, the most specific range, case
for (['text/html;q=0', 'application/json'],
     ['application/json, text/html;q=0.1', 'application/json'],
     ['text/htmlx', 'application/json'],
     ['TEXT/HTML', 'text/html'],
     ['text/html;q=0.5, application/json;q=0.4', 'text/html'],
     ['*/*;q=0.9, text/html;q=0', 'application/json'],
     ['text/*;q=0.1, */*;q=0.2', 'application/json'],
     ['image/png', 'application/json'],
     ['text/html;q=bad, application/json;q=0.1', 'application/json'],
     # what Prometheus 2 sends
     ['application/openmetrics-text;version=1.0.0,application/openmetrics-'
      . 'text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'application/openmetrics-text'],
     ['text/plain;version=0.0.4;q=0.3,*/*;q=0.2', 'text/plain; version=0.0.4'],
     ['text/plain', 'text/plain; charset'],
     # the most specific range says, in any order
     ['text/*, text/plain;q=0', 'text/html'],
     ['text/plain;q=0, text/*', 'text/html'],
     ['text/*;q=0.9, text/plain;q=0.5', 'text/html'],
     ['text/plain;q=0.5, text/*;q=0.9', 'text/html'],
     ['text/*', 'text/plain; charset'],
     # two ranges as specific: the better quality, in any order
     ['text/html;q=0, text/html', 'text/html'],
     ['text/html, text/html;q=0', 'text/html'],
     ['application/openmetrics-text;version=0.0.1;q=0.1, application/'
      . 'openmetrics-text;version=1.0.0, text/plain;version=0.0.4;q=0.5',
      'application/openmetrics-text'])
{
    my ($accept, $type) = @$_;
    $r = $t->http_get('/faas/status', headers => "Accept: $accept\r\n");
    is($r->{status}, 200, "Accept: $accept: 200");
    like(FaasTest::header($r, 'content-type') // '', qr{^\Q$type\E},
         "... $type");
}
like($t->http_get('/faas/status', headers => "Accept: text/plain\r\n")
     ->{body}, qr/^FUNCTION\s+TENANT/m, 'Accept: text/plain: the table');

# the query's keys and values %-decoded
like(FaasTest::header($t->http_get('/faas/status?format=%70rometheus'),
                      'content-type') // '', qr{^text/plain; version=0\.0\.4},
     '?format=%70rometheus: Prometheus text');
like(FaasTest::header($t->http_get('/faas/status?%66ormat=table'),
                      'content-type') // '', qr{^text/plain; charset},
     '?%66ormat=table: the table');
is($t->http_get('/faas/status?format')->{status}, 400,
   '?format without a value: 400');
is($t->http_get('/faas/status?function=o%6B')->{status}, 200,
   '?function=o%6B: ok\'s');
is($t->http_get('/faas/status?function=..%2Fx')->{status}, 404,
   '?function=..%2Fx: 404');

# its access log line says the status's own outcome (it said ok for all)
my @sl;
ok(FaasTest::wait_for(sub {
       @sl = split /\n/, FaasTest::read_file($slog) // '';
       @sl && $sl[-1] =~ /status=404/ }, 5), 'the status\'s access log');
like($sl[-1], qr/ status=404 outcome=not_found /, '... a 404: not_found');
like((grep { / status=400 / } @sl)[0] // '', qr/ outcome=error /,
     '... a 400: error');
like((grep { / status=200 / } @sl)[0] // '', qr/ outcome=ok /,
     '... a 200: ok');

# --- the snapshot, without JavaScript -----------------------------------

my $snap = $t->http_get('/faas/status?format=html')->{body};

for my $name ('ok', 'crashy', $long) {
    my $c = row($snap, 'f-body', $name);
    my $j = named($s->{functions}, $name);
    is($c->{'c-inv'}, total($j->{invocations}),
       "snapshot: $name invocations");
    is($c->{'c-o-ok'}, $j->{invocations}{ok}, "snapshot: $name ok");
    is($c->{'c-o-crashed'}, $j->{invocations}{crashed},
       "snapshot: $name crashed");
    is($c->{'c-name'}, $name, "snapshot: $name as text");
}
is(row($snap, 'f-body', $long)->{'c-tenant'}, $ten, 'snapshot: long tenant');
is(row($snap, 't-body', $ten)->{'c-inv'}, 3, 'snapshot: the tenant row');
is(() = $snap =~ m{<tr data-name=}g, 62 + 5,
   'snapshot: 62 functions, 5 tenants');

my $bin = $t->runner_bin_name;
my $listen = 'unix:' . $t->socket_path;
my $file = $t->prefix . '/status.html';
system("$bin status --listen $listen --format html >$file 2>&1");
is($?, 0, 'fcgi-runner status --format html: exit 0');
my $cli = FaasTest::read_file($file);
like($cli, qr{^<!DOCTYPE html>}, 'fcgi-runner status: the page');
is(row($cli, 'f-body', 'ok')->{'c-inv'}, 6, 'fcgi-runner status: figures');

# --- in a browser -------------------------------------------------------

my $b = FaasBrowser::dom("$base/faas/status?format=html", budget => 7000);
is($b->{rc}, 0, 'chromium ran');
my $dom = $b->{out};
my @console = FaasBrowser::console($b);
ok(!@console, 'nothing on the console') or diag(join "\n", @console);
like($dom, qr{<span id="live" class="live">live, updated}, 'polled live');

$s = json();
for my $name ('ok', 'crashy', $long) {
    my $c = row($dom, 'f-body', $name);
    my $j = named($s->{functions}, $name);
    is($c->{'c-inv'}, total($j->{invocations}), "DOM: $name invocations");
    is($c->{'c-o-ok'}, $j->{invocations}{ok}, "DOM: $name ok");
    is($c->{'c-o-crashed'}, $j->{invocations}{crashed},
       "DOM: $name crashed");
    is($c->{'c-cold'}, $j->{cold_starts}, "DOM: $name cold starts");
    like($c->{'c-chart'} // '', qr{<svg[^>]+class="chart rate".*<svg}s,
         "DOM: $name charts");
}
is(row($dom, 'f-body', $long)->{'c-name'}, $long, 'DOM: long name as text');
is(row($dom, 't-body', $ten)->{'c-inv'}, 3, 'DOM: long tenant, its sum');
is(row($dom, 't-body', 'acme')->{'c-inv'},
   total(named($s->{tenants}, 'acme')->{invocations}), 'DOM: tenant acme');
like($dom, qr{<span id="f-page">page 1 of 2, 62 of 62</span>},
     'DOM: the first of two pages');
my ($fbody) = $dom =~ m{<tbody id="f-body">(.*?)</tbody>}s;
is(() = ($fbody // '') =~ m{<tr }g, 50, 'DOM: 50 rows a page');
like($dom, qr{<dd id="r-functions">62</dd>}, 'DOM: the runner\'s figures');
my ($big) = $dom =~ m{(<svg[^>]*id="total-rate".*?</svg>)}s;
like($big // '', qr{<text[^>]*>max [\d.]+/s</text>}, 'the invocations chart: '
     . 'its scale (the largest rate)');
like($big // '', qr{<text[^>]*>10 min ago</text>.*<text[^>]*>now</text>}s,
     '... and its time axis');
($big) = $dom =~ m{(<svg[^>]*id="total-p99".*?</svg>)}s;
like($big // '', qr{<text[^>]*>max [\d.]+ ms</text>}, 'the p99 chart: its scale');

# one tenant's page polls that tenant's status only
$b = FaasBrowser::dom("$base/faas/status?tenant=acme&format=html",
                      budget => 3000);
like($b->{out}, qr{<span id="live" class="live">live, updated},
     'a tenant\'s page: polled live');
like($b->{out}, qr{<span id="f-page">page 1 of 1, 1 of 1</span>},
     'a tenant\'s page: its function only');
is(row($b->{out}, 'f-body', 'ok')->{'c-inv'}, 6, 'a tenant\'s page: ok');
like($b->{out}, qr{<h2>The functions shown, the last 10 minutes</h2>},
     'a tenant\'s page: its charts are of its functions, not all');
like($dom, qr{<h2>All functions, the last 10 minutes</h2>},
     '(the host\'s page: all of them)');

# the file from "fcgi-runner status" opens as a static page
$b = FaasBrowser::dom("file://$file", budget => 2000);
ok(!FaasBrowser::console($b), 'file: nothing on the console');
like($b->{out}, qr{<span id="live">snapshot</span>}, 'file: a snapshot');

# --- a screenshot while traffic flows -----------------------------------

my $pid = fork // die;
if ($pid == 0) {
    # not the harness's handlers: they would stop the runner
    $SIG{$_} = 'DEFAULT' for qw(TERM INT QUIT HUP ALRM);
    my $end = time + 40;
    while (time < $end) {
        $t->http_get('/fn/ok?op=sleep&ms=' . int(rand 30), timeout => 5);
        $t->http_get("/fn/$long?op=env", timeout => 5) if rand() < 0.3;
        sleep 0.02;
    }
    POSIX::_exit(0);
}

# 20 seconds of real time: the page polls about ten times meanwhile
my $png = $t->prefix . '/dashboard.png';
my $wait = 'new Promise(function (ok) { setTimeout(ok, 300); })';
my $rows = "Array.prototype.map.call(document.querySelectorAll("
           . "'#f-body tr'), function (r) { return r.dataset.name; })"
           . ".join(' ')";
$b = FaasBrowser::live_screenshot("$base/faas/status?format=html", $png,
    seconds => 20, eval => [
        # sorted by a click on a column's head, then once more: reversed
        "document.querySelector('#f-table th.c-name').click(); $rows",
        "document.querySelector('#f-table th.c-name').click(); $rows",
        # filtered, and on the next poll still
        "var i = document.getElementById('f-filter'); i.value = 'CRAS';"
        . " i.dispatchEvent(new Event('input')); $rows",
        "$wait.then(function () { return $wait; })"
        . ".then(function () { return $rows; })",
        # the second page
        "i.value = ''; i.dispatchEvent(new Event('input'));"
        . " document.getElementById('f-next').click(); $rows",
        "document.getElementById('f-page').textContent",
        # 1280 px wide: the page is no wider (the table scrolls in its box)
        "document.documentElement.scrollWidth + ' ' + window.innerWidth",
    ]);
kill 'TERM', $pid;
waitpid($pid, 0);

ok($b->{ok}, 'a screenshot after 20 s') or diag($b->{error});
my @names = sort('ok', 'crashy', $long, 'constructor',
                 map { sprintf 'idle%02d', $_ } 2 .. 59);
my @v = @{ $b->{values} };
is($v[0], join(' ', @names[0 .. 49]), 'sorted by name');
is($v[1], join(' ', (reverse @names)[0 .. 49]), 'by name, reversed');
is($v[2], 'crashy', 'filtered: "CRAS" finds crashy');
is($v[3], 'crashy', 'filtered, after polls too');
is($v[4], join(' ', (reverse @names)[50 .. 61]), 'the second page');
is($v[5], 'page 2 of 2, 62 of 62', 'page 2 of 2');
my ($sw, $iw) = split ' ', $v[6] // '';
ok($iw && $sw <= $iw, "the page fits a 1280 px window ($v[6])");
@console = FaasBrowser::console($b);
ok(!@console, 'polling 20 s: nothing on the console')
    or diag(join "\n", @console);

# the charts of all functions: not their background (#f6f7f9) in their
# boxes (1280x900: under the runner's figures, side by side)
my $drawn = sub { abs($_[0] - 246) + abs($_[1] - 247) + abs($_[2] - 249)
                  > 24 };
my $rate = FaasBrowser::count_pixels($png, $drawn, [20, 212, 574, 314]);
my $p99 = FaasBrowser::count_pixels($png, $drawn, [598, 212, 1152, 314]);
cmp_ok($rate, '>', 300, "the invocations chart is drawn ($rate pixels)");
cmp_ok($p99, '>', 100, "the p99 chart is drawn ($p99 pixels)");

if (my $dir = $ENV{TEST_FAAS_SCREENSHOTS}) {
    system('cp', $png, "$dir/dashboard.png");
}

$t->done;
done_testing;
