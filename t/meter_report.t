#!/usr/bin/perl

# fcgi-runner meter: the report of a real access log, checked against
# sums computed here from the same log; by function and by tenant; table,
# JSON and CSV; prices; lines it cannot parse are counted, not fatal.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Encode ();
use JSON::PP;

my $t = FaasTest->new;
my $fn = $t->testfn;
my $p = $t->prefix;
my $bin = "$FaasTest::BUILD/fcgi-runner";

$t->function('alpha', "exec = $fn\ntenant = acme\nmemory = 128M\n");
$t->function('beta', "exec = $fn\ntenant = acme\nmemory = 512M\n"
                     . "timeout = 500ms\n");
$t->function('gamma', "exec = $fn\nuser = nobody\n");
$t->start_runner;
$t->start_metered_nginx("$p/logs/meter.log");

$t->http_get($_) for (('/fn/alpha?op=sleep&ms=20') x 5, ('/fn/alpha') x 10,
                      ('/fn/beta?op=burn&ms=30') x 4, '/fn/beta?op=sleep&ms=900',
                      '/fn/beta?op=crash', ('/fn/gamma') x 3, '/fn/nosuch');

my $log = "$p/logs/meter.log";
FaasTest::wait_for(sub { (() = FaasTest::read_file($log) =~ /\n/g) >= 25 }, 5);

# garbage the report must skip and count
open my $fh, '>>', $log;
print $fh "not a meter line\n", "time=x status=200 something=else\n";
close $fh;

# the sums, computed here
my (%want, $lines);
for (split /\n/, FaasTest::read_file($log)) {
    $lines++;
    my %h = map { /^([a-z_]+)=(.*)$/ ? ($1, $2) : () } split / /;
    next unless defined $h{function} && $h{function} ne '-';
    for my $by ('function', 'tenant') {
        # by function, the names no tenant has are one row: (unknown)
        my $name = $by eq 'function' && ($h{tenant} // '-') eq '-'
                   ? '(unknown)' : $h{$by};
        my $g = $want{$by}{$name} //= {};
        $g->{invocations}++;
        $g->{cold} += ($h{cold} // '') eq '1' ? 1 : 0;
        $g->{outcomes}{ $h{outcome} }++;
        $g->{billed_s} += num($h{billed}) / 1000;
        $g->{duration_s} += num($h{duration}) / 1000;
        $g->{cpu_s} += num($h{cpu}) / 1000;
        $g->{gb_seconds} += num($h{memory_size}) / 1048576
                            * num($h{billed}) / 1000;
    }
}
sub num { defined $_[0] && $_[0] =~ /^[\d.]+$/ ? $_[0] : 0 }

is($want{function}{beta}{outcomes}{timeout}, 1, 'the log has a timeout');
is($want{function}{beta}{outcomes}{crashed}, 1, 'and a crash');
is($want{function}{'(unknown)'}{outcomes}{not_found}, 1,
   'and a not_found (nosuch, no tenant\'s: the row of such names)');

for my $by ('function', 'tenant') {
    my $json = `$bin meter --by $by --format json $log 2>/dev/null`;
    is($? >> 8, 0, "meter --by $by --format json exits 0");
    my $rep = eval { decode_json($json) } // {};
    is($rep->{skipped}, 2, 'two lines skipped');
    is($rep->{lines}, $lines, 'all lines read');

    my %got = map { $_->{name} => $_ } @{ $rep->{groups} // [] };
    is_deeply([sort keys %got], [sort keys %{ $want{$by} }],
              "the same ${by}s");

    for my $name (sort keys %{ $want{$by} }) {
        my ($g, $w) = ($got{$name}, $want{$by}{$name});
        is($g->{invocations}, $w->{invocations}, "$name: invocations");
        is($g->{cold}, $w->{cold}, "$name: cold starts");
        for my $o (keys %{ $w->{outcomes} }) {
            is($g->{outcomes}{$o}, $w->{outcomes}{$o}, "$name: $o");
        }
        my $errs = 0;
        $errs += $w->{outcomes}{$_} // 0 for qw(timeout crashed error);
        is($g->{errors}, $errs, "$name: errors (timeout, crashed, error)");
        for my $k (qw(billed_s duration_s cpu_s gb_seconds)) {
            ok(abs($g->{$k} - $w->{$k}) < 0.001, "$name: $k "
               . "$g->{$k} = $w->{$k}");
        }
    }

    my $tot = 0;
    $tot += $_->{invocations} for values %{ $want{$by} };
    is($rep->{total}{invocations}, $tot, "total invocations by $by");
}

# prices: cost = GB-s * P + invocations / 1e6 * P
my $cmd = "$bin meter --format json --price-gb-second 0.5 "
        . "--price-million-requests 1000000 $log 2>/dev/null";
my $json = `$cmd`;
my $rep = decode_json($json);
my $w = $want{function}{alpha};
my ($alpha) = grep { $_->{name} eq 'alpha' } @{ $rep->{groups} };
ok(abs($alpha->{cost} - ($w->{gb_seconds} * 0.5 + $w->{invocations}))
   < 0.001, "cost from the prices ($alpha->{cost})");
# a request no function ran (unknown, throttled) is no request billed
my ($nosuch) = grep { $_->{name} eq '(unknown)' } @{ $rep->{groups} };
is($nosuch && $nosuch->{cost}, 0, 'an unknown function\'s request costs '
   . 'nothing');

my $csv = `$bin meter --format csv $log 2>/dev/null`;
my @rows = split /\n/, $csv;
like($rows[0], qr/^function,invocations,cold,ok,not_found,throttled,timeout,crashed,error,accepted,client_closed,errors,duration_s,billed_s,cpu_s,gb_seconds,cost,after_response_faults$/,
     'CSV header');
my ($beta) = grep { /^beta,/ } @rows;
like($beta, qr/^beta,6,\d+,4,0,0,1,1,0,/, 'CSV row of beta');

my $table = `$bin meter $log 2>&1`;
like($table, qr/^function\s+invocations\s+cold/m, 'table header');
like($table, qr/^alpha\s+15\s/m, 'table row aligned');
like($table, qr/^\(total\)\s+25\s/m, 'table total');
like($table, qr/2 of \d+ line\(s\) skipped/, 'says how many it skipped');

is(system("$bin meter --by colour $log >/dev/null 2>&1") >> 8, 2,
   'bad --by: usage, exit 2');
# each refusal says why, as status does; --help is no error
for (['--by colour', qr/invalid --by "colour": function or tenant/],
     ['--format yaml', qr/invalid --format "yaml": table, json, csv or html/],
     ['--price-gb-second nan', qr/invalid --price-gb-second "nan": a decimal/],
     ['--price-million-requests 1000000001', qr/invalid --price-million-requests "1000000001": a decimal number from 0 to 1000000000/],
     ['--by=tenant', qr/unknown option "--by=tenant" \(an option and its value are two words\)/],
     ['--colour red', qr/unknown option "--colour"/]) {
    my ($args, $why) = @$_;
    my $err = `$bin meter $args $log 2>&1 >/dev/null`;
    is($? >> 8, 2, "meter $args: exit 2");
    like($err, qr/^fcgi-runner meter: $why[^\n]*\nusage: fcgi-runner meter /,
         '... the reason, then the usage');
}
like(`$bin meter 2>&1`, qr/^fcgi-runner meter: no log named/,
     'no log: said');
my $help = `$bin meter --help 2>/dev/null`;
is($? >> 8, 0, 'meter --help: exit 0');
like($help, qr/^usage: fcgi-runner meter /, '... the usage on stdout');
is(system("$bin meter $p/none.log >/dev/null 2>&1") >> 8, 1,
   'missing log: exit 1');
is(`$bin meter $p/none.log 2>/dev/null`, '',
   '... and no table of zeros that looks like a month with no use');
my $some = `$bin meter $log $p/none.log 2>/dev/null`;
is($? >> 8, 1, 'one of two missing: exit 1');
like($some, qr/^\(total\)\s+25\s/m, '... with the table of the one read');

# a key again later in a line is in a value someone else chose (a header
# or a user agent logged after the format's fields): the first counts
my $forged = "$p/forged.log";
FaasTest::write_file($forged, 'time=2026-01-01T00:00:00+00:00 function=mine '
    . 'tenant=mine status=200 outcome=ok duration=1.000 billed=1.000 '
    . 'cpu=0.500 memory=1000 memory_size=1048576 '
    . 'ua="x\\" tenant=victim billed=99999 cpu=99999" '
    . "id=x tenant=victim function=theirs billed=99999\n");
my $fj = decode_json(`$bin meter --by tenant --format json $forged`);
is(join(',', map { $_->{name} } @{ $fj->{groups} }), 'mine',
   'a key repeated later in the line: billed to the first tenant');
is($fj->{groups}[0]{billed_s}, 0.001, '... the first billed figure');
is($fj->{groups}[0]{cpu_s}, 0.001, '... and cpu');

# a function named "total" (a valid name) is a row, not the total: its
# tenant's bill no line a script takes for the sum
my $named = "$p/named.log";
FaasTest::write_file($named, join '', map {
    "time=2026-01-01T00:00:00+00:00 function=$_ tenant=$_ status=200 "
    . "outcome=ok duration=1.000 billed=1.000 cpu=0.500 memory=1000 "
    . "memory_size=1048576\n" } qw(total total other));
for my $by (qw(function tenant)) {
    my $nc = `$bin meter --by $by --format csv $named 2>/dev/null`;
    like($nc, qr/^other,1,.*^total,2,.*^\(total\),3,/ms,
         "a $by named total: its row (2), the total's (3), in CSV");
    my $nt = `$bin meter --by $by $named 2>/dev/null`;
    like($nt, qr/^total\s+2\s.*^\(total\)\s+3\s/ms, '... and in the table');
}

# a line of another format (nginx's combined, read by mistake or in the
# same file) whose client chose its user agent: every key there is a
# first one. A line of the format begins with one of its keys
my $combined = "$p/combined.log";
FaasTest::write_file($combined,
    '127.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /fn/shop HTTP/1.1" 200 '
    . '5 "-" "x function=shop tenant=victim outcome=ok duration=1 '
    . "billed=999999999 memory_size=999999999 cpu=0 y\"\n"
    . "- function=shop tenant=victim outcome=ok duration=1 billed=99 "
    . "memory_size=1 cpu=0\n"
    . "  status=200 function=mine tenant=mine outcome=ok duration=1.000 "
    . "billed=1.000 cpu=0.500 memory_size=1048576\n");
my $cj = eval { decode_json(scalar `$bin meter --by tenant --format json $combined 2>/dev/null`) }
         // {};
is(join(',', map { $_->{name} } @{ $cj->{groups} // [] }), 'mine',
   'a combined line with the pairs in its user agent: not billed');
is($cj->{skipped}, 2, '... skipped, as one that begins with no key');

# figures no runner or nginx writes (a sign, an exponent, inf, nan,
# hexadecimal): the line is skipped, never subtracted from a bill
my $odd = "$p/odd.log";
my $pre = 'time=2026-01-01T00:00:00+00:00 function=mine tenant=mine '
        . 'status=200 outcome=ok';
FaasTest::write_file($odd, join '', map { "$pre $_\n" }
    'duration=10.000 billed=10.000 cpu=1.000 memory_size=1048576',
    'duration=-5.000 billed=-99999.000 cpu=1.000 memory_size=1048576',
    'duration=10.000 billed=1e9 cpu=1.000 memory_size=1048576',
    'duration=10.000 billed=inf cpu=1.000 memory_size=1048576',
    'duration=10.000 billed=10.000 cpu=nan memory_size=1048576',
    'duration=0x10 billed=10.000 cpu=1.000 memory_size=1048576',
    'duration=10.000 billed=10.000 cpu=1.000 '
    . 'memory_size=99999999999999999999999',
    'duration=10.000 billed=9999999999999.000 cpu=1.000 memory_size=1048576');
my $oj = eval { decode_json(`$bin meter --format json $odd 2>/dev/null`) }
         // { groups => [] };
is($oj->{skipped}, 7, 'a negative, exponent, inf, nan, hex, absurdly large '
   . 'figure: skipped');
is($oj->{groups}[0]{invocations}, 1, '... the good line counted');
is($oj->{groups}[0]{billed_s}, 0.01, '... and only its billed time');

# a request no worker took (duration=-: the runner answered first, an
# async body over async_max_body; or nginx never reached the runner) is
# an invocation and its outcome, never charged per request; an outcome
# neither the runner nor nginx writes: skipped
my $unrun = "$p/unrun.log";
FaasTest::write_file($unrun, join '', map {
    "time=2026-01-01T00:00:00+00:00 function=mine tenant=mine $_\n" }
    'outcome=ok duration=10.000 billed=10.000 cpu=1.000 memory_size=1048576',
    'outcome=error status=413 duration=- billed=- cpu=- memory_size=1048576',
    'outcome=error status=502 duration=- billed=- cpu=- memory_size=-',
    'outcome=weird duration=1.000 billed=1.000 cpu=1.000 memory_size=1048576',
    'duration=1.000 billed=1.000 cpu=1.000 memory_size=1048576',
    'outcome=ok billed=1.000 cpu=1.000 memory_size=1048576');
my $uj = eval { decode_json(scalar `$bin meter --format json --price-million-requests 1000000 $unrun`) }
         // { groups => [] };
is($uj->{groups}[0]{invocations}, 3, 'unrun: counted as invocations');
is($uj->{groups}[0]{outcomes}{error}, 2, '... with their outcome');
is($uj->{groups}[0]{cost}, 1, '... charged for the one that ran only');
is($uj->{skipped}, 3, 'an outcome nobody writes, no outcome, no duration: '
   . 'skipped');
is($uj->{unmetered}, 0, '... none of them for want of measurements');

# nginx's line of a request it has no measurements for (outcome=-: the
# runner metered the run in meter_log, or nothing ran): skipped, and
# said apart from lines not of the format
my $dash = "$p/dash.log";
FaasTest::write_file($dash, join '', map {
    "time=2026-01-01T00:00:00+00:00 function=mine tenant=mine $_\n" }
    'outcome=ok duration=10.000 billed=10.000 cpu=1.000 memory_size=1048576',
    'status=499 outcome=- duration=- billed=- cpu=- memory_size=-',
    'status=504 outcome=- duration=- billed=- cpu=- memory_size=-',
    'outcome=weird duration=1.000 billed=1.000 cpu=1.000 memory_size=1');
my $dj = eval { decode_json(scalar `$bin meter --format json $dash 2>/dev/null`) }
         // {};
is($dj->{skipped}, 3, 'outcome=- and a bad outcome: skipped');
is($dj->{unmetered}, 2, '... two of them for want of measurements');
my $dt = `$bin meter $dash 2>&1`;
like($dt, qr/^2 of 4 line\(s\) skipped with outcome=-: nginx's of a run metered in meter_log, or of none\n1 of 4 line\(s\) skipped: not of the faas_meter format \(a line begins with one of its keys, its figures as nginx and the runner write them\)/m,
     '... the table says which are which') or diag($dt);
like(scalar `$bin meter --format csv $dash 2>&1 >/dev/null`,
     qr/3 of 4 line\(s\) skipped \(2 with outcome=-\)/, '... so does stderr');

# a price that is no number (nan, inf, nothing): a usage error
for my $bad ('nan', 'inf', '', '1e308', '-0.1', '+1', '0x10', ' 1', '-0') {
    `$bin meter --price-gb-second '$bad' $unrun 2>/dev/null`;
    is($? >> 8, 2, "--price-gb-second '$bad': exit 2");
}
`$bin meter --price-gb-second 1.5e-5 $unrun 2>/dev/null`;
is($? >> 8, 0, '--price-gb-second 1.5e-5: a price');
my $dir_out = `$bin meter $p 2>&1`;
is($? >> 8, 1, 'a folder for a log: exit 1');
like($dir_out, qr/cannot read "\Q$p\E": Is a directory/, '... said');

# names as a line has them: CSV quoted (no column shift, no formula),
# JSON valid whatever the bytes
my $names = "$p/names.log";
FaasTest::write_file($names, join '', map {
    "time=2026-01-01T00:00:00+00:00 function=$_ tenant=t status=200 "
    . "outcome=ok duration=1.000 billed=1.000 cpu=1.000 "
    . "memory_size=1048576\n" } 'a,b"c', '=HYPERLINK("x")', "bad\xff\xfe",
    "\"\tTAB\"");
my @csv = split /\n/, `$bin meter --format csv $names`;

# the table is for a terminal: a name's control bytes (ESC, BEL, CR) as
# \xNN, one over 64 characters cut, the other lines not padded to it
my $ctl = "$p/ctl.log";
FaasTest::write_file($ctl, join '', map {
    "time=2026-01-01T00:00:00+00:00 function=$_ tenant=t status=200 "
    . "outcome=ok duration=1.000 billed=1.000 cpu=1.000 "
    . "memory_size=1048576\n" } "ctl\e[31mred\a\rX", 'x' x 5000,
    "c1\xc2\x9b31m\xff\xe2\x82\xacok");
my $ctable = `$bin meter $ctl`;
unlike($ctable, qr/[\e\a\r]/, 'table: no control byte of a name');
like($ctable, qr/^ctl\\x1b\[31mred\\x07\\x0dX +1 /m, '... each as \\xNN');
like($ctable, qr/^x{64}\.\.\. +1 /m, '... a name of 5000 cut at 64');
like($ctable, qr/^c1\\xc2\\x9b31m\\xff\xe2\x82\xacok +1 /m,
     '... a C1 control (CSI, U+009B) and a byte that is no UTF-8 too, a '
     . 'character kept');
ok(!grep({ length > 300 } split /\n/, $ctable), '... no line padded to it');

# columns by characters, not bytes: a name of two-byte and three-byte
# characters lines up with one of ASCII
my $wide = "$p/wide.log";
FaasTest::write_file($wide, join '', map {
    "time=2026-01-01T00:00:00+00:00 function=$_ tenant=t status=200 "
    . "outcome=ok duration=1.000 billed=1.000 cpu=1.000 "
    . "memory_size=1048576\n" } "caf\xc3\xa9", 'abcdefgh',
    "\xe2\x82\xac" x 6);
my @wrows = grep { /^(caf|abc|\x{20ac})/ }
            split /\n/, Encode::decode('UTF-8', `$bin meter $wide`);
is(scalar @wrows, 3, 'table: three names of other bytes than characters');
my %ends = map { /^(\S+ +\d+ )/ ? (length($1) => 1) : () } @wrows;
is(scalar keys %ends, 1, '... their counts in one column')
    or diag join "\n", @wrows;

is(scalar(grep { /^"a,b""c",1,/ } @csv), 1, 'CSV: a comma and a quote, quoted');
is(scalar(grep { /^"'=HYPERLINK\(""x""\)",1,/ } @csv), 1,
   '... a formula, quoted and started with a quote character');
is(scalar(grep { /^"'\tTAB",1,/ } @csv), 1, '... one starting with a tab too');
FaasTest::write_file("$p/notenant.log", "function=x tenant=- status=502 "
                     . "outcome=error duration=- cpu=-\n");
like(`$bin meter --by tenant --format csv $p/notenant.log`, qr/^-,1,/m,
     '... not the group of no tenant, "-"');
my $nj = eval { JSON::PP->new->utf8->decode(`$bin meter --format json $names`) };
ok($nj, 'JSON of a name with bytes that are no UTF-8: valid') or diag $@;
is(scalar(grep { $_->{name} eq "bad\x{fffd}\x{fffd}" } @{ $nj->{groups} // [] }),
   1, '... those bytes as U+FFFD');

# a million lines in seconds
my $big = "$p/big.log";
open $fh, '>', $big;
my $line = "time=2026-01-01T00:00:00+00:00 function=f%d tenant=t status=200 "
         . "outcome=ok duration=1.500 billed=2.000 init=0.000 cold=0 "
         . "cpu=0.500 memory=1500 memory_size=262144\n";
printf $fh $line, $_ % 100 for 1 .. 1_000_000;
close $fh;
my $t0 = time;
my $out = `$bin meter --format csv $big`;
my $took = time - $t0;
like($out, qr/^\(total\),1000000,/m, 'a million lines counted');
ok($took < 20, "in seconds ($took s)");

# a format of the operator's without billed= or memory_size=: counted,
# billed 0, and said (it was silent: a month's revenue gone unnoticed)
FaasTest::write_file("$p/unpriced.log",
    "time=2026-01-01T00:00:00+00:00 function=mine tenant=mine outcome=ok "
    . "duration=5000.000\n"
    . "time=2026-01-01T00:00:00+00:00 function=mine tenant=mine outcome=ok "
    . "duration=5.000 billed=5.000 memory_size=1048576\n");
my $ue = `$bin meter --format csv $p/unpriced.log 2>&1 >/dev/null`;
like($ue, qr/^fcgi-runner: 1 of 2 line\(s\) with no billed= or no memory_size=, billed as 0/m,
     'a line with no billed= or memory_size=: said');
is(`$bin meter --format csv $log 2>&1 >/dev/null` =~ /no billed=/ ? 1 : 0, 0,
   '... never for nginx\'s and the runner\'s lines');

# a client's 404s of random names (nginx logs each with tenant=-, the
# runner knowing none): by function one row, (unknown), whatever their
# number. A row each made 1,000,000 of them a report of a million rows,
# 137 s and 268 MB; under 64 MiB of address space 300,000 were a
# report cut off, now one row in the same few MiB as any report
my $random = "$p/random.log";
open $fh, '>', $random;
printf $fh "time=2026-01-01T00:00:00+00:00 function=x%08x%d tenant=- "
    . "status=404 outcome=not_found duration=- billed=- cpu=- memory=- "
    . "memory_size=-\n", int(rand(2**32)), $_ for 1 .. 300_000;
print $fh "time=2026-01-01T00:00:00+00:00 function=real tenant=acme "
    . "status=404 outcome=not_found duration=1.000 billed=1.000 cpu=0.100 "
    . "memory=100 memory_size=1048576\n";
close $fh;
my $rj = eval { decode_json(scalar
    `prlimit --as=67108864 $bin meter --format json $random 2>/dev/null`) }
    // {};
is(join(',', map { "$_->{name}=$_->{invocations}" } @{ $rj->{groups} // [] }),
   'real=1,(unknown)=300000',
   '300,000 random names no tenant has: one row; a real function\'s '
   . 'not_found its own');
like(`$bin meter --by tenant --format csv $random`, qr/^-,300000,/m,
     '... by tenant, the group of no tenant, "-"');
# a format of the operator's without tenant=: a row a name, as before
FaasTest::write_file("$p/notenantkey.log", join '', map {
    "time=2026-01-01T00:00:00+00:00 function=$_ outcome=ok duration=1.000 "
    . "billed=1.000 memory_size=1048576\n" } qw(one two two));
like(`$bin meter --format csv $p/notenantkey.log 2>/dev/null`,
     qr/^one,1,.*^two,2,/ms, 'no tenant= in the format: a row a function');

$t->done;
done_testing;
