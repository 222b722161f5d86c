#!/usr/bin/perl

# A shared store that is slow (its table locked) while one client posts
# many asynchronous requests of 1 MiB: what waits to be stored is
# bounded (64 MiB): past it a request is answered 503 with Retry-After
# at once, as at async_max_queued, instead of being held in the
# runner's memory (and again in each batch and libpq's copy) until the
# database answers. Once the lock goes, what was accepted is stored and
# answered 202; nothing answered 202 is missing from the store.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Select;
use POSIX ();
use Time::HiRes qw(sleep time);

my ($db, $uri) = FaasTest::postgres();
my $t = FaasTest->new;
$t->function('sink', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\ncat >/dev/null\n"
                         . "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
$t->start_runner(conf => "store = $uri\nasync_max_queued = 100000\n");

my $body = 'x' x (1024 * 1024);
sub request {
    return FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('sink',
            FAAS_INVOCATION => 'async', REQUEST_METHOD => 'POST',
            CONTENT_LENGTH => length $body, CONTENT_TYPE => 'text/plain'),
        stdin => $body, keep => 0);
}

# the store is up: one is taken
my $s = $t->fcgi_connect;
my $r = FaasTest::fcgi_exchange($s, request(), timeout => 20);
my $first = FaasTest::http_parse($r->{stdout}) // {};
FaasTest::wait_for(sub {
    $s = $t->fcgi_connect;
    $r = FaasTest::fcgi_exchange($s, request(), timeout => 20);
    $first = FaasTest::http_parse($r->{stdout}) // {};
    ($first->{status} // 0) == 202 }, 20);
is($first->{status}, 202, 'the store is up: accepted');

# the table locked for 8 s
my $lock = $db->lock_table('faas.invocations', 8);
sleep 0.5;
my $locked_at = time;

# 160 requests of 1 MiB, each written whole, none read yet
my @socks;
for my $i (1 .. 160) {
    my $c = $t->fcgi_connect;
    my $bytes = request();
    my $off = 0;
    while ($off < length $bytes) {
        my $n = syswrite($c, $bytes, length($bytes) - $off, $off);
        last unless defined $n;
        $off += $n;
    }
    push @socks, $c;
}
my $written = time;
my ($rss) = FaasTest::read_file("/proc/$t->{runner_pid}/status") =~ /VmRSS:\s+(\d+)/;

my (%status, $early503, $retry, @ids);
for my $c (@socks) {
    my $a = FaasTest::fcgi_read($c, timeout => 30);
    my $h = FaasTest::http_parse($a->{stdout}) // {};
    my $st = $h->{status} // 0;
    $status{$st}++;
    if ($st == 503) {
        $retry //= FaasTest::header($h, 'retry-after');
    }
    if ($st == 202) {
        push @ids, FaasTest::header($h, 'faas-invocation-id');
    }
}
waitpid($lock, 0);

cmp_ok($status{503} // 0, '>=', 60, 'past 64 MiB waiting for the store: '
       . '503 (' . ($status{503} // 0) . ' of 160)')
    or diag(explain \%status);
is($retry, '1', '... with Retry-After');
cmp_ok($status{202} // 0, '>=', 40, 'the others accepted once the lock went ('
       . ($status{202} // 0) . ')');
is(($status{202} // 0) + ($status{503} // 0), 160, '... nothing else');
# (its resident set is no measure under AddressSanitizer, whose
# quarantine keeps the bodies of the 503s: said, not asserted)
diag("the runner's memory while it waited: " . int(($rss // 0) / 1024)
     . ' MiB for 160 MiB sent');

my $list = join ',', map { "'$_'" } grep { defined } @ids;
is($db->psql("SELECT count(*) FROM faas.invocations WHERE id IN ($list)"),
   scalar(@ids) . "\n", 'every id answered 202 is in the store');

$t->done;
$db->done;

done_testing;
