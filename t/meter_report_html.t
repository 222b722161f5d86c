#!/usr/bin/perl

# fcgi-runner meter --format html: the usage report as a page. Its
# figures per function, per tenant and in total equal those of the JSON
# and table formats for the same log and prices; it opens in headless
# Chromium with nothing on the console, nothing fetched, no script; log
# lines with quotes, <, & and bytes over 0x7f in any field render as
# text; the charts over time are drawn (pixels in the screenshot).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use FaasBrowser;
use Test::More;
use JSON::PP;

my $t = FaasTest->new;
my $p = $t->prefix;
my $bin = "$FaasTest::BUILD/fcgi-runner";
my $log = "$p/meter.log";

# two days of 12 functions of 3 tenants, a line every 7 minutes or so
srand(23);
my @lines;
my $start = 1790812800;     # 2026-10-01T00:00:00Z
for (my $s = 0; $s < 2 * 86400; $s += 60 + int(rand 720)) {
    my $f = int(rand 12);
    my @tm = gmtime($start + $s);
    my $ok = rand() < 0.93;
    my $d = 1 + rand(40 * ($f + 1));
    push @lines, sprintf('time=%04d-%02d-%02dT%02d:%02d:%02d+00:00 '
        . 'function=fn%02d tenant=%s status=%d outcome=%s '
        . 'duration=%.3f billed=%d.000 init=0.000 cold=%d cpu=%.3f '
        . 'memory=%d memory_size=%d',
        $tm[5] + 1900, $tm[4] + 1, @tm[3, 2, 1, 0], $f,
        (qw(acme beta gamma))[$f % 3], $ok ? 200 : 502,
        $ok ? 'ok' : 'crashed', $d, int($d) + 1,
        rand() < 0.1 ? 1 : 0, rand(5), 3000, 131072 * (1 + $f % 4));
}

# what a customer may put in names and fields
my @hostile = (
    'time=2026-10-01T05:00:00Z function="<script>alert(1)</script>" '
        . 'tenant="<img src=x onerror=alert(2)>" outcome=ok duration=5 '
        . 'billed=5 cpu=1 memory_size=262144',
    "time=2026-10-01T06:00:00Z function=x\"y&amp;z<w>' tenant=it's&co "
        . 'outcome=ok duration=1 billed=1 cpu=1 '
        . 'memory_size=262144',
    # an outcome nobody writes: the line is skipped, shown nowhere
    "time=2026-10-01T06:30:00Z function=markup tenant=it's&co "
        . 'outcome="<i>ok</i>" duration=1 billed=1 cpu=1 '
        . 'memory_size=262144',
    "time=2026-10-01T07:00:00Z function=\"caf\xc3\xa9 \xff\xfe\" "
        . "tenant=t\xe9st outcome=ok duration=2 billed=2 cpu=1 "
        . 'memory_size=262144',
    'time="<b>soon</b>" function=late&early tenant=acme outcome=ok '
        . 'duration=3 billed=3 cpu=1 memory_size="<262144>"',
);
push @lines, @hostile, 'not a meter line', '';

FaasTest::write_file($log, join("\n", @lines) . "\n");

my @price = qw(--price-gb-second 0.0000166667 --price-million-requests 0.2);
my $html = `$bin meter --format html @price $log 2>/dev/null`;
is($? >> 8, 0, 'meter --format html: exit 0');
like($html, qr{^<!DOCTYPE html>}, 'a page');
ok($html !~ qr{<(?:script|link|img|iframe|object)|https?:(?!//www\.w3)}i,
   'self-contained, no script, no element from a log line');
unlike($html, qr/markup/, 'a line with an outcome nobody writes: skipped');
FaasTest::write_file("$p/report.html", $html);

sub unhtml {
    my ($s) = @_;
    $s =~ s/&lt;/</g;
    $s =~ s/&gt;/>/g;
    $s =~ s/&quot;/"/g;
    $s =~ s/&#39;/'/g;
    $s =~ s/&amp;/&/g;
    return $s;
}

# a table of the page: name => { class => text }
sub table {
    my ($page, $id) = @_;
    my ($tab) = $page =~ m{<table id="$id">(.*?)</table>}s or return {};
    my %rows;
    while ($tab =~ m{<tr data-name="([^"]*)">(.*?)</tr>}gs) {
        my ($name, $tr) = (unhtml($1), $2);
        my %c;
        $c{$1} = unhtml($2) while $tr =~ m{<td class="([^"]+)">(.*?)</td>}gs;
        $rows{$name eq '' ? 'total' : $name} = \%c;
    }
    return \%rows;
}

# the JSON format's figures, its bytes as they are (not all UTF-8)
sub json_of {
    my ($by) = @_;
    my $out = `$bin meter --by $by --format json @price $log 2>/dev/null`;
    is($? >> 8, 0, "meter --by $by --format json: exit 0");
    return JSON::PP->new->decode($out);
}

sub same {
    my ($page, $j, $what) = @_;
    my @groups = (@{ $j->{groups} }, $j->{total});
    my $n = 0;
    for my $g (@groups) {
        my $name = $g->{name};
        my $copy = $name;
        # a name that is not UTF-8 is shown with U+FFFD: checked apart
        next unless utf8::decode($copy) && $copy !~ /[\x00-\x1f]/;
        my $c = $page->{$g == $j->{total} ? 'total' : $name};
        ok($c, "$what: the row of \"$name\"") or next;
        my $err = $g->{outcomes}{timeout} + $g->{outcomes}{crashed}
                  + $g->{outcomes}{error};
        my $ok = $c->{'c-inv'} eq $g->{invocations}
            && $c->{'c-cold'} eq $g->{cold}
            && $c->{'c-errors'} == $err
            && $c->{'c-duration'} eq sprintf('%.3f', $g->{duration_s})
            && $c->{'c-billed'} eq sprintf('%.3f', $g->{billed_s})
            && $c->{'c-cpu'} eq sprintf('%.3f', $g->{cpu_s})
            && $c->{'c-gbs'} eq sprintf('%.6f', $g->{gb_seconds})
            && $c->{'c-cost'} eq sprintf('%.6f', $g->{cost});
        $ok &&= $c->{"c-o-$_"} eq $g->{outcomes}{$_}
            for keys %{ $g->{outcomes} };
        ok($ok, "$what: \"$name\" as in the JSON format")
            or diag(explain($c, $g));
        $n++;
    }
    cmp_ok($n, '>=', $what eq 'function' ? 14 : 4,
           "$what: every row compared");
}

my $jf = json_of('function');
my $jt = json_of('tenant');
my $funcs = table($html, 'functions');
my $tenants = table($html, 'tenants');
same($funcs, $jf, 'function');
same($tenants, $jt, 'tenant');
is(keys %$funcs, @{ $jf->{groups} } + 1, 'as many functions as the JSON');
is(keys %$tenants, @{ $jt->{groups} } + 1, 'as many tenants as the JSON');

# each function and tenant with its invocations over time
for my $id (qw(functions tenants)) {
    my ($tab) = $html =~ m{<table id="$id">(.*?)</table>}s;
    my $n = () = ($tab // '') =~ m{<td class="c-chart"><svg class="spark"}g;
    is($n, keys(%{ table($html, $id) }) - 1, "$id: a chart each");
}

# the table format says the same
my $table = `$bin meter @price $log 2>/dev/null`;
for my $name (map { sprintf 'fn%02d', $_ } 0 .. 11) {
    my ($row) = $table =~ /^\Q$name\E\s+(.*)$/m;
    my @v = split ' ', $row // '';
    is("$v[0] $v[-1]", "$funcs->{$name}{'c-inv'} $funcs->{$name}{'c-cost'}",
       "table format: invocations and cost of $name");
}

like($html, qr{<dd id="t-inv">$jf->{total}{invocations}</dd>}, 'the total');
like($html, qr{<dd id="t-cost">\Q@{[sprintf '%.6f', $jf->{total}{cost}]}\E<},
     'the total cost');
like($html, qr{Over time, per hour}, 'two days: per hour');

# the top by cost, the highest first
my ($top) = $html =~ m{<table id="top">(.*?)</table>}s;
my @top = map { unhtml($_) } ($top // '') =~ m{<tr data-name="([^"]*)">}g;
my @want = map { $_->{name} }
           sort { $b->{cost} <=> $a->{cost} || $b->{gb_seconds}
                  <=> $a->{gb_seconds} } @{ $jf->{groups} };
is("@top[0 .. 4]", "@want[0 .. 4]", 'top functions by cost');

# a longer period goes per day
my $days = "$p/days.log";
FaasTest::write_file($days, join("\n",
    map { sprintf 'time=2026-10-%02dT12:00:00Z function=a tenant=b '
          . 'outcome=ok duration=1 billed=1 memory_size=1024', $_ } 1 .. 20)
    . "\n");
like(`$bin meter --format html $days`, qr{Over time, per day},
     '20 days: per day');

# times with offsets, in UTC hours: both lines at 00:xx UTC
my $tz = "$p/tz.log";
FaasTest::write_file($tz,
    "time=2026-10-01T02:30:00+02:00 function=a tenant=b outcome=ok "
    . "duration=1 billed=1 memory_size=1024\n"
    . "time=2026-09-30T23:59:59.250-01:00 function=a tenant=b outcome=ok "
    . "duration=3 billed=3 memory_size=1024\n");
my $page = `$bin meter --format html $tz`;
like($page, qr{<span id="period">2026-10-01 00:00 to 2026-10-01 01:00 UTC<},
     'offsets: the period in UTC');

# a time no run had (1970, 9999) is no line of the format: skipped, the
# period stays the real one (one made it years, the traffic in its last
# bucket)
my $far = "$p/far.log";
FaasTest::write_file($far, FaasTest::read_file($tz)
    . join '', map { "time=$_ function=a tenant=b outcome=ok duration=1 "
                     . "billed=1 memory_size=1024\n" }
      '1970-01-01T00:00:00+00:00', '9999-12-31T23:59:59+00:00',
      '1969-12-31T23:59:59+00:00', 'yesterday');
my $farpage = `$bin meter --format html $far 2>&1`;
like($farpage, qr{<span id="period">2026-10-01 00:00 to 2026-10-01 01:00 UTC<},
     '1970 and 9999: the period as without them');
like($farpage, qr/4 of 6 line\(s\) skipped/,
     '... skipped, said, and so are 1969-12-31T23:59:59 and "yesterday"');
like($page, qr{<title>invocations per hour</title><text [^>]*>max 2<},
     'offsets: one hour of two invocations');
like($page, qr{<title>p99 ms per hour</title><text [^>]*>max 3\.00 ms<},
     'the p99 of the hour, in ms');
like($page,
     qr{<title>GB-seconds per hour</title><text [^>]*>max 3\.9e-06 GB-s<},
     'the GB-seconds of the hour: 4 ms of 1 MiB, two digits');

# --- in a browser -------------------------------------------------------

SKIP: {
    skip 'no chromium (make deps installs it)', 14
        unless FaasBrowser::binary();

    my $b = FaasBrowser::dom("file://$p/report.html", budget => 1000);
    is($b->{rc}, 0, 'chromium ran');
    my $dom = $b->{out};
    my @console = FaasBrowser::console($b);
    ok(!@console, 'nothing on the console') or diag(join "\n", @console);
    unlike($dom, qr{<script|<img|<i>|<b>|<w>}i,
           'DOM: no element from a log line');
    like($dom,
         qr{<td class="c-name">&lt;script&gt;alert\(1\)&lt;/script&gt;</td>},
         'DOM: <script> as text');
    like($dom,
         qr{<td class="c-tenant">&lt;img src=x onerror=alert\(2\)&gt;</td>},
         'DOM: <img> as text');
    like($dom, qr{<td class="c-name">x"y&amp;amp;z&lt;w&gt;'</td>},
         'DOM: quotes and & as text');
    like($dom, qr{<td class="c-name">it's&amp;co</td>}, 'DOM: tenant it\'s&co');
    like($dom, qr{<td class="c-name">caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd</td>},
         'DOM: UTF-8 kept, other bytes U+FFFD');
    like($dom, qr{<td class="c-name">t\xef\xbf\xbdst</td>},
         'DOM: a Latin-1 tenant with U+FFFD');
    my $d = table($dom, 'functions');
    is($d->{fn03}{'c-inv'}, $funcs->{fn03}{'c-inv'}, 'DOM: the figures');

    my $png = "$p/report.png";
    FaasBrowser::screenshot("file://$p/report.html", $png, budget => 1000);
    ok(-s $png, 'a screenshot');
    # the three charts over time, under the title and the totals
    my %n;
    my %colour = (inv => [31, 111, 235], gbs => [130, 80, 223],
                  p99 => [209, 36, 47]);
    for my $k (keys %colour) {
        my $c = $colour{$k};
        $n{$k} = FaasBrowser::count_pixels($png, sub {
            abs($_[0] - $c->[0]) + abs($_[1] - $c->[1])
            + abs($_[2] - $c->[2]) < 60 }, [0, 150, 1100, 320]);
    }
    ok($n{inv} > 2000 && $n{gbs} > 2000 && $n{p99} > 100,
       "the charts are drawn ($n{inv}, $n{gbs}, $n{p99} pixels)");

    if (my $dir = $ENV{TEST_FAAS_SCREENSHOTS}) {
        system('cp', $png, "$dir/usage-report.png");
    }

    # 1280 px wide: the page no wider, its wide tables scroll in a box
    # (the outcome columns ran past the window)
    $b = FaasBrowser::live_screenshot("file://$p/report.html",
        "$p/live.png", seconds => 2, eval => [
            "document.documentElement.scrollWidth + ' ' + window.innerWidth"
            . " + ' ' + document.getElementById('tenants').scrollWidth"]);
    my ($sw, $iw, $tw) = split ' ', $b->{values}[0] // '';
    ok($iw && $sw <= $iw, 'the report fits a 1280 px window ('
       . ($b->{values}[0] // $b->{error}) . ')');
    ok($tw && $tw > $iw, '... its tenants table wider, in its own box');
}

done_testing;
