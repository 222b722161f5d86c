#!/usr/bin/perl

# Asynchronous invocations: faas_invocation async (or the header
# Faas-Invocation: async where faas_invocation_header is on; see
# module_invocation_header.t) stores the request and answers 202 with its
# id; the stored invocation runs on the function's workers with
# FAAS_INVOCATION_ID, FAAS_ATTEMPT and FAAS_TRIGGER. Crashes are tried
# again with backoff, then kept as failed; on_success and on_failure get
# the outcome. 1,000 accepted, the runner SIGKILLed half way and started
# again: every one runs, twice only those that were running. Bad input:
# unknown function 404 and nothing stored, a body over async_max_body
# 413, a damaged store stops the runner, a full disk is 503 with nothing
# half-written.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;

# what each got, in its folder's out/log (FaasTest::async_script)
my $rec = FaasTest::async_script('rec');
my $flaky = FaasTest::async_script('flaky', 3);
my $doomed = FaasTest::async_script('doomed');
my $dest = FaasTest::async_script('dest');

my %dir;
$dir{rec} = $t->function('rec', "exec = ./run.sh\nmode = cgi\n",
                         'run.sh' => $rec);
$dir{flaky} = $t->function('flaky', "exec = ./run.sh\nmode = cgi\n"
                           . "on_success = dest\n", 'run.sh' => $flaky);
$dir{doomed} = $t->function('doomed', "exec = ./run.sh\nmode = cgi\n"
                            . "on_failure = dest\n", 'run.sh' => $doomed);
$dir{dest} = $t->function('dest', "exec = ./run.sh\nmode = cgi\n",
                          'run.sh' => $dest);
# one that would say what its invocation is: refused, the runner's word
# alone (a sync CGI saw the function's own)
$dir{forge} = $t->function('forge', "exec = ./run.sh\nmode = cgi\n"
                           . "env.FAAS_TRIGGER = forged\nenv.FAAS_ATTEMPT = 99\n"
                           . "env.FAAS_INVOCATION_ID = 0\n", 'run.sh' => $rec);
# a CGI whose lines end in LF alone, as a shell's echo writes them
$dir{lf} = $t->function('lf', "exec = ./run.sh\nmode = cgi\n"
                        . "on_failure = dest\n", 'run.sh' => <<'EOF');
#!/bin/sh
echo "Status: 500 Boom"
echo "Content-Type: text/plain"
echo
echo "boom"
printf '\r\n\r\nafter'
EOF
# records, then takes 50 ms: 4 at once, about 80 a second
# one at a time, slowly: the order it serves in is the order it logs
$dir{order} = $t->function('order', "exec = ./run.sh\nmode = cgi\n"
                           . "max_instances = 1\n", 'run.sh' => <<'EOF');
#!/bin/sh
sleep 0.3
echo "${FAAS_TRIGGER:-sync} $QUERY_STRING" >> out/log
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF
$dir{bulk} = $t->function('bulk', "exec = ./run.sh\nmode = cgi\n"
                          . "max_instances = 4\n",
                          'run.sh' => $rec =~ s/^printf/sleep 0.05\nprintf/mr);
for my $d (values %dir) {
    mkdir "$d/out";
    chmod 0777, "$d/out";
}
# one that says whose run it is: the tenant checked at its dispatch is
# checked again where it starts (a reload between the two gave the name
# to another tenant: one tenant's payload ran on the other's function)
$dir{who} = $t->function('who', "exec = ./run.sh\nmode = cgi\n"
                         . "tenant = acme\n", 'run.sh' => <<'EOF');
#!/bin/sh
env | grep '^FAAS_.*TENANT' | sort > out/env
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF
mkdir "$dir{who}/out";
chmod 0777, "$dir{who}/out";
# a function that answers with a header of the runner's name
$t->function('liar', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\n'
printf 'Faas-Invocation-Id: x tenant=victim billed=9e9\r\n'
printf 'Faas-Invocation-Id: 0123456789abcdef0123456789abcdef\r\n\r\nhi\n'
EOF

sub lines {
    my ($name) = @_;
    return grep { length } split /\n/, FaasTest::read_file("$dir{$name}/out/log");
}

my $conf = "async_backoff = 200ms\nasync_max_body = 64k\n";
$t->start_runner(conf => $conf);
my $inv_log = $t->prefix . '/logs/inv.log';
my $sync_log = $t->prefix . '/logs/sync.log';
$t->start_nginx("    log_format inv '\$faas_invocation_id \$status';\n"
                . $t->faas_location(location => 'faas_invocation_header on;'
                                    . " access_log $sync_log inv;",
                                    extra => <<"EOF"));
        location /async/ {
            faas_route ^/async/(?<afn>[^/]+) \$afn;
            faas_invocation async;
            faas_pass runner;
            access_log $inv_log inv;
        }
        location = /faas/status { faas_status; faas_pass runner; }
EOF

# --- accepted, stored, run -------------------------------------------------

my $r = $t->http_post('/async/rec', 'hello');
is($r->{status}, 202, 'faas_invocation async: 202 Accepted');
my $id = FaasTest::header($r, 'faas-invocation-id') // '';
like($id, qr/^[0-9a-f]{32}$/, 'Faas-Invocation-Id: a 32-digit id');

# a function's own header of that name is no invocation id: not in the
# access log (where "tenant=victim" would be a field of a billing line)
is($t->http_get('/fn/liar')->{body}, "hi\n", 'a function that sends '
   . 'Faas-Invocation-Id itself');
ok(FaasTest::wait_for(sub { FaasTest::read_file($sync_log) =~ /^- 200$/m },
                      5), '... $faas_invocation_id is empty for it');
unlike(FaasTest::read_file($sync_log), qr/tenant=|0123456789abcdef/,
       '... neither of its values is logged');
is($r->{body}, "{\"id\": \"$id\"}\n", 'the body: {"id": ...}');
ok(FaasTest::wait_for(sub { -s $inv_log }, 5), 'logged');
like(FaasTest::read_file($inv_log), qr/^\Q$id\E 202$/m,
     '$faas_invocation_id in the access log');
ok(FaasTest::wait_for(sub { lines('rec') >= 1 }, 10), 'it ran');
is((lines('rec'))[0], "$id 1 async POST hello",
   'FAAS_INVOCATION_ID, FAAS_ATTEMPT 1, FAAS_TRIGGER async, its method '
   . 'and body');

$r = $t->http_post('/fn/rec', 'by-header',
                   headers => "Faas-Invocation: async\r\n");
is($r->{status}, 202, 'the header Faas-Invocation: async: 202');
my $id2 = FaasTest::header($r, 'faas-invocation-id') // '';
ok(FaasTest::wait_for(sub { lines('rec') >= 2 }, 10), 'it ran');
is((lines('rec'))[1], "$id2 1 async POST by-header", '... with its body');

$r = $t->http_post('/fn/rec', 'sync');
is($r->{status}, 200, 'without either: an ordinary request');
is($r->{body}, "recorded sync\n", '... answered by the function');

# --- bad input ------------------------------------------------------------

is($t->http_post('/async/nosuch', 'x')->{status}, 404,
   'unknown function: 404');
is($t->http_post('/async/rec', 'x' x (65 * 1024))->{status}, 413,
   'a body over async_max_body (64k): 413');
is($t->http_post('/async/rec', 'y' x (64 * 1024))->{status}, 202,
   'one of exactly 64k: 202');
# hello, by-header, the synchronous one, and this
ok(FaasTest::wait_for(sub { lines('rec') >= 4 }, 10), 'it ran');
sleep 0.5;
is(scalar(lines('rec')), 4, 'the refused ones were not stored');
is(scalar(grep { /xxxx/ } lines('rec')), 0, '... not the one over 64k');

$r = $t->http_post('/async/forge', 'f');
is($r->{status}, 404, 'env.FAAS_* of a function: not loaded');
like($t->runner_log, qr/invalid environment variable name "FAAS_TRIGGER" in \S*forge\/function\.conf:3: the runner's to set/,
     '... said with file and line');

$r = $t->http_post('/async/who', 'w');
is($r->{status}, 202, "acme's who: accepted");
ok(FaasTest::wait_for(sub { -s "$dir{who}/out/env" }, 10), '... it ran');
is(FaasTest::read_file("$dir{who}/out/env"),
   "FAAS_ONLY_TENANT=acme\nFAAS_TENANT=acme\n",
   '... started as a request of its tenant only (FAAS_ONLY_TENANT)');

# --- retries, destinations -----------------------------------------------

$r = $t->http_post('/async/flaky', 'f');
my $fid = FaasTest::header($r, 'faas-invocation-id') // '';
$r = $t->http_post('/async/doomed', 'd');
my $did = FaasTest::header($r, 'faas-invocation-id') // '';

ok(FaasTest::wait_for(sub { lines('dest') >= 2 }, 20),
   'both outcomes reached the destination');
is(join(',', map { (split / /)[1] } lines('flaky')), '1,2,3',
   'flaky: crashed on attempts 1 and 2, ran on 3');
is(join(',', map { (split / /)[1] } lines('doomed')), '1,2,3',
   'doomed: 3 attempts (async_retries 2), then no more');

$r = $t->http_post('/async/lf', 'l');
my $lid = FaasTest::header($r, 'faas-invocation-id') // '';
ok(FaasTest::wait_for(sub { lines('dest') >= 3 }, 20),
   'the LF one\'s outcome reached the destination');

my %out = map { my $j = eval { decode_json($_) }; $j ? ($j->{id} => $j) : () }
          lines('dest');
is($out{$fid}{outcome}, 'succeeded', 'on_success of flaky: succeeded');
is($out{$fid}{attempts}, 3, '... after 3 attempts');
is($out{$fid}{status}, 200, '... status 200');
is($out{$fid}{body}, "fine at last\n", '... with its body');
like($out{$fid}{headers}, qr{^Content-Type: text/plain\r\n$},
     '... and its header block');
is($out{$did}{outcome}, 'failed', 'on_failure of doomed: failed');
is($out{$did}{status}, 500, '... status 500');
is($out{$lid}{status}, 500, 'a CGI of LF lines: its status');
is($out{$lid}{headers}, "Status: 500 Boom\nContent-Type: text/plain\n",
   '... its header block, to its empty line');
is($out{$lid}{body}, "boom\n\r\n\r\nafter", '... its body, the rest');
like($t->runner_log, qr/invocation \Q$fid\E of "flaky": 502 on attempt 1, again in 200 ms/,
     'the retry and its backoff logged');
like($t->runner_log, qr/invocation \Q$fid\E of "flaky": 502 on attempt 2, again in 400 ms/,
     '... doubling');

# --- never ahead of synchronous requests ---------------------------------

{
    my @sync = map { $t->http_start("/fn/order?s$_") } 1 .. 3;
    # (the third cannot start before 0.6 s: one instance, 0.3 s each)
    sleep 0.3;
    my $x = $t->http_post('/async/order?a', 'a');
    is($x->{status}, 202, 'an async invocation behind 3 synchronous ones');
    my @r = map { FaasTest::http_finish($_, timeout => 10) } @sync;
    ok(FaasTest::wait_for(sub { lines('order') >= 4 }, 10), 'all ran');
    my @o = lines('order');
    is(join(',', sort(@o[0 .. 2]), $o[3]), 'sync s1,sync s2,sync s3,async a',
       'the synchronous ones first: it never went ahead of them');
}

# --- fcgi-runner invocations ---------------------------------------------

my $bin = $t->runner_bin_name;
my $rc = $t->prefix . '/runner.conf';

my $list = eval { decode_json(scalar `$bin invocations --config $rc --format json`) };
ok($list, 'fcgi-runner invocations --format json parses');
my %st = map { $_->{id} => $_ } @{ $list // [] };
is($st{$id}{state}, 'succeeded', 'the first: succeeded');
is($st{$did}{state}, 'failed', 'doomed: failed');
is($st{$did}{attempts}, 3, '... 3 attempts');
is(scalar(grep { $_->{trigger} eq 'destination' } values %st), 3,
   'three destination invocations');

my $failed = `$bin invocations --config $rc --state failed`;
like($failed, qr/^\Q$did\E\s+doomed\s+async\s+failed\s+3\s+500\s/m,
     '--state failed: the table');
unlike($failed, qr/\Q$fid\E/, '... only the failed');

my $one = `$bin invocation $fid --config $rc`;
like($one, qr/^state:\s+succeeded$/m, 'fcgi-runner invocation ID: state');
like($one, qr/^attempts:\s+3$/m, '... attempts');
like($one, qr/fine at last/, '... the response');
$one = `$bin invocation $did --config $rc`;
like($one, qr/^state:\s+failed$/m, 'a failed one: state');
like($one, qr/^response:\s+\d+ bytes$/m, '... its last attempt\'s answer kept');
like($one, qr/Status: 500 Internal Server Error.*\bno\b/s,
     '... its status line and body');
`$bin invocation 0000 --config $rc 2>&1`;
isnt($?, 0, 'an unknown id: fails');

my $s = eval { decode_json($t->http_get('/faas/status')->{body}) };
is($s->{runner}{async_invocations}{failed}, 2, 'status: 2 failed');
cmp_ok($s->{runner}{async_invocations}{succeeded}, '>=', 5,
       'status: the succeeded');

# --- 1,000 accepted, a crash half way ------------------------------------

my (@ids, $t0);
$t0 = time;
for my $i (1 .. 1000) {
    my $x = $t->http_post('/async/bulk', "n$i");
    push @ids, FaasTest::header($x, 'faas-invocation-id') if $x->{status} == 202;
}
my $accept_s = time - $t0;
is(scalar @ids, 1000, sprintf('1,000 accepted (%.1f s)', $accept_s));

ok(FaasTest::wait_for(sub { lines('bulk') >= 300 }, 60),
   'some have run');
my $old = $t->runner_pid;
kill 'KILL', $old;
ok(FaasTest::wait_for(sub { !FaasTest::proc_alive($old) }, 10),
   'the runner is SIGKILLed');
my $before = () = lines('bulk');
cmp_ok($before, '<', 1000, "... with $before of 1,000 run");

$t->start_runner(conf => $conf);
like($t->runner_log, qr/\d+ asynchronous invocations? (?:was|were) running when the runner stopped: (?:it runs|they run) again/,
     'the restarted runner says what runs again');

ok(FaasTest::wait_for(sub {
       my %seen = map { ((split / /)[0] => 1) } lines('bulk');
       return keys(%seen) >= 1000;
   }, 120), 'every accepted invocation ran');

my %count;
$count{(split / /)[0]}++ for lines('bulk');
is(scalar(grep { !$count{$_} } @ids), 0, 'none lost');
my @twice = grep { $count{$_} > 1 } keys %count;
cmp_ok(scalar @twice, '<=', 4, 'twice: only those running at the kill '
       . '(max_instances 4): ' . scalar @twice);
is(scalar(grep { !/^[0-9a-f]{32}$/ } keys %count), 0, 'nothing else ran');

# --- a damaged store: the runner does not start ---------------------------

$t->stop_runner;
my $db = $t->prefix . '/state/async.db';
ok(-f $db, 'the store is in state_dir');
{
    open my $fh, '+<', $db or die;
    seek $fh, 0, 0;
    print $fh 'garbage' x 200;
    close $fh;
    unlink "$db-wal", "$db-shm";
}
my $out = `$FaasTest::ROOT/build/fcgi-runner --config $rc 2>&1`;
isnt($?, 0, 'a damaged store: the runner exits');
like($out, qr/\[emerg\].*store ".*async\.db".*(damaged|not a database)/,
     '... and says why');

# its log without it: what it held is gone; the runner does not start
# over empty
unlink $db;
FaasTest::write_file("$db-wal", 'wal');
$out = `$FaasTest::ROOT/build/fcgi-runner --config $rc 2>&1`;
isnt($?, 0, 'a store missing beside its log: the runner exits');
like($out, qr/\[emerg\].*store ".*async\.db" is missing but its write-ahead log is there/,
     '... and says why');

$t->done;

done_testing;
