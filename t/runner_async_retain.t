#!/usr/bin/perl

# What the store keeps of a finished asynchronous invocation: its answer
# (up to 64 KiB), never its request. A tenant's stream of large bodies
# to a function that succeeds (or fails) at once held 300 MB of bodies,
# and every client's cookies and Authorization, for async_retention
# (24 h), whatever async_max_queued said. Promise: when an invocation
# succeeds or fails for good, its body and parameters are dropped in
# the store; one still queued keeps them; the answer and the counts stay.
# And a tenant's answers kept within async_retention are bounded by
# tenant_async_kept (a schedule of every second answering 64 KiB kept
# 5.6 GB a day): past it the outcome is kept without its answer, said
# once; another tenant's are kept.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;

my $t = FaasTest->new;
$t->cgi_answer_function('ok', '200 OK');
$t->cgi_answer_function('bad', '500 No');
# answers larger than what is kept: a CGI one (its output comes in
# slices of any size) and a FastCGI one (records of 8 KiB)
$t->function('bigcgi', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\ncat > /dev/null\n"
                       . "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
                       . "head -c 200000 /dev/zero | tr '\\0' a\n");
$t->function('bigfcgi', "exec = @{[ $t->testfn ]}\n");
# an answer in UTF-8, with two bytes that are none
$t->function('utf', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\ncat > /dev/null\nprintf 'Content-Type: "
                       . "text/plain\\r\\n\\r\\nA \\377\\376 B \\303\\251 C\\n'\n");
# never runs while the test looks: one worker, held
$t->function('held', "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
             . "timeout = 8s\n",
             'run.sh' => "#!/bin/sh\nsleep 30\n");

# 61,028 bytes an answer: three of them under 200K, not four
for my $fn ('chatty', 'quiet', 'roomy') {
    $t->function($fn, "exec = ./run.sh\nmode = cgi\ntenant = $fn\n",
                 'run.sh' => "#!/bin/sh\ncat > /dev/null\n"
                           . "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
                           . "head -c 61000 /dev/zero | tr '\\0' c\n");
}

# roomy's own bound, tenant.roomy.async_kept: two answers, not three
$t->start_runner(conf => "async_retries = 0\ntenant_async_kept = 200K\n"
                 . "tenant.roomy.async_kept = 130K\n");
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

my $db = $t->prefix . '/state/async.db';
my $bin = $t->runner_bin_name;
my $rc = $t->prefix . '/runner.conf';
my $big = 'x' x (512 * 1024);

sub sql {
    my ($q) = @_;
    my $out = `sqlite3 -readonly $db "$q" 2>&1`;
    chomp $out;
    return $out;
}

my %id;
for my $fn ('ok', 'bad', 'held', 'held') {
    my $r = $t->http_post("/async/$fn", $big,
                          headers => "Cookie: session=secret\r\n");
    is($r->{status}, 202, "$fn: 512 KB accepted");
    push @{ $id{$fn} }, FaasTest::header($r, 'faas-invocation-id') // '';
}
my ($ok, $bad, $queued) = ($id{ok}[0], $id{bad}[0], $id{held}[1]);

ok(FaasTest::wait_for(sub {
       sql("SELECT count(*) FROM invocations WHERE state >= 2") eq '2' }, 20),
   'the two that run ended (succeeded, failed)');
is(sql("SELECT state, length(body), length(params) FROM invocations "
       . "WHERE id = '$ok'"), '2|0|0',
   'a succeeded invocation keeps neither its body nor its parameters');
is(sql("SELECT state, length(body), length(params) FROM invocations "
       . "WHERE id = '$bad'"), '3|0|0', '... nor a failed one');
is(sql("SELECT count(*) FROM invocations "
       . "WHERE instr(params, CAST('session=secret' AS BLOB)) > 0"),
   '2', 'the cookie is only in the two not finished (running, queued)');
is(sql("SELECT length(body) FROM invocations WHERE id = '$queued'"),
   512 * 1024, '... which keeps its body to run it');
my $j = eval { decode_json(scalar `$bin invocation $ok --config $rc --format json`) };
$j = $j->[0] if ref $j eq 'ARRAY';
is($j && $j->{state}, 'succeeded', 'invocation ID: succeeded');
is($j && $j->{body_bytes}, 0, '... no body kept');
like(scalar `$bin invocation $bad --config $rc --raw`, qr/answer\n$/,
     'a failed one still shows what its last attempt answered');

# JSON is Unicode text: the answer's UTF-8 as it is, as in the
# destination's document (each byte was its own code point: "é" read
# "Ã©")
{
    my $r = $t->http_post('/async/utf', '');
    my $id = FaasTest::header($r, 'faas-invocation-id') // '';
    ok(FaasTest::wait_for(sub {
           sql("SELECT state FROM invocations WHERE id = '$id'") eq '2' },
           20), 'an answer in UTF-8: succeeded');
    my $out = `$bin invocation $id --config $rc --format json`;
    my $u = eval { decode_json($out) };
    $u = $u->[0] if ref $u eq 'ARRAY';
    is($u && $u->{response},
       "Content-Type: text/plain\r\n\r\nA \x{fffd}\x{fffd} B \x{e9} C\n",
       'invocation --format json: UTF-8 as it is, a byte of none U+FFFD')
        or diag($out);
}

# the first 64 KiB of a larger answer, exactly, however it came
for my $u ('/async/bigcgi', '/async/bigfcgi?op=big&n=200000') {
    my $r = $t->http_post($u, '');
    my $id = FaasTest::header($r, 'faas-invocation-id') // '';
    ok(FaasTest::wait_for(sub {
           sql("SELECT state FROM invocations WHERE id = '$id'") eq '2' },
           20), "$u: succeeded");
    my $raw = `$bin invocation $id --config $rc --raw`;
    my ($n) = $raw =~ /^response:\s+(\d+) bytes$/m;
    is($n, 64 * 1024,
       "$u: its answer's first 64 KiB kept, header block included");
    my $kept = substr($raw, -64 * 1024);
    like($kept, qr/^Content-Type: [^\r]+\r\n\r\n(a+|[a-z]+)$/,
         '... the bytes as sent, from the first') or diag(substr($kept, 0, 64));
}

# --- a tenant's answers kept, bounded ------------------------------------

{
    my @ids;
    for my $fn (('chatty') x 5, 'quiet', ('roomy') x 4) {
        my $r = $t->http_post("/async/$fn", '');
        push @ids, FaasTest::header($r, 'faas-invocation-id') // '';
    }
    my $in = join ',', map { "'$_'" } @ids;
    ok(FaasTest::wait_for(sub {
           sql("SELECT count(*) FROM invocations WHERE id IN ($in) "
               . "AND state = 2") eq '10' }, 30),
       'a tenant of five answers of 61 KB, one of one, one of four: '
       . 'succeeded');
    is(sql("SELECT group_concat(n) FROM (SELECT length(response) AS n "
           . "FROM invocations WHERE function = 'chatty' ORDER BY n)"),
       '0,0,61028,61028,61028',
       'three answers kept under tenant_async_kept 200K, then none');
    is(sql("SELECT length(response) FROM invocations "
           . "WHERE function = 'quiet'"), 61028,
       '... another tenant\'s kept, its own bound');
    my $line = 'tenant "chatty": its answers kept are at '
             . 'tenant_async_kept (200K)';
    my $said = () = $t->runner_log =~ /\Q$line\E/g;
    is($said, 1, '... said once');
    is(sql("SELECT group_concat(n) FROM (SELECT length(response) AS n "
           . "FROM invocations WHERE function = 'roomy' ORDER BY n)"),
       '0,0,61028,61028', 'tenant.roomy.async_kept 130K: two kept, its own');
    like($t->runner_log, qr/tenant "roomy": its answers kept are at (?#
                            )tenant\.roomy\.async_kept \(130K\)/,
         '... said with its key and bound');
}

$t->done;

done_testing;
