#!/usr/bin/perl

# Random FastCGI responses into the module's response parser: a FastCGI
# peer of our own answers each request with records of every type (and
# unknown ones), random lengths and paddings, header blocks valid and
# not, measurement records whole, cut and lying, stderr, a wrong version
# now and then, END_REQUEST early, twice or never, split at random
# offsets and delays. Promise: nginx's worker never dies (it would log
# the signal), no sanitizer report (module_sanitizers.t runs this against
# the ASan nginx), every request gets an answer, and one whose response
# was well formed gets exactly its body.
#
# FUZZ_ITERATIONS (default 200), seeded by FUZZ_SEED (printed).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record fcgi_params);
use Test::More;
use Time::HiRes qw(time);

my $iterations = $ENV{FUZZ_ITERATIONS} // 200;
my $seed = $ENV{FUZZ_SEED} // (time ^ $$) & 0xffffff;
diag("FUZZ_SEED=$seed FUZZ_ITERATIONS=$iterations");
alarm(60 + 2 * $iterations);

my $t = FaasTest->new;
my $p = $t->prefix;

sub pick { $_[int rand @_] }
sub rand_bytes { join '', map { chr int rand 256 } 1 .. $_[0] }

# the response for request N: deterministic from the seed, so that the
# client side knows what a well-formed one should give
sub response {
    my ($n) = @_;
    srand($seed + $n);
    my $body = rand_bytes(pick(0, 1, 10, 3000, 70000));
    my $head = pick("Content-Type: text/plain\r\n\r\n",
                    "Status: 201 Made\r\nX-A: b\r\n\r\n",
                    "Location: /x\r\n\r\n",
                    "Status: 204 No Content\r\n\r\n");
    my $good = rand() < 0.5;
    my $out = '';
    my $stdout = $head . $body;

    if ($good) {
        while (length $stdout) {
            my $n = 1 + int rand 9000;
            $out .= fcgi_record(6, 1, substr($stdout, 0, $n, ''),
                                int rand 8);
            $out .= fcgi_record(7, 1, rand_bytes(int rand 50))
                if rand() < 0.2;
        }
        $out .= fcgi_record(6, 1, '');
        $out .= fcgi_record(100, 1, pick(
            fcgi_params(outcome => 'ok', duration => '12'),
            fcgi_params(tenant => 'x' x 300, outcome => 'ok'),
            rand_bytes(int rand 40)))
            if rand() < 0.7;
        $out .= fcgi_record(3, 1, pack('NCx3', 0, 0));
        return ($out, $head, $body);
    }

    for (1 .. 1 + int rand 8) {
        my $type = pick(3, 6, 6, 6, 7, 100, 0, 11, 255);
        my $content = $type == 6 ? pick($stdout, rand_bytes(200), '',
                                        "X: y\r\n" x 3000, "\r\n")
                    : $type == 3 ? rand_bytes(pick(0, 8, 3))
                    : rand_bytes(pick(0, 9, 500));
        my $r = fcgi_record($type, pick(1, 1, 1, 0, 2), $content,
                            int rand 256);
        substr($r, 0, 1, chr pick(0, 2, 255)) if rand() < 0.05;
        $r = substr($r, 0, int rand length $r) if rand() < 0.1;
        $out .= $r;
    }
    # mostly the peer then closes; else nginx waits for faas_read_timeout
    return ($out, undef, undef, rand() < 0.8);
}

$t->fake_upstream(sub {
    my ($params) = @_;
    my ($n) = ($params->{QUERY_STRING} // '') =~ /n=(\d+)/;
    return (response($n // 0))[0, 3];
}, split => 0);

$t->{port} = FaasTest::free_port();
my $log = "$p/logs/faas.log";
$t->start_nginx(FaasTest::meter_log_format()
    . $t->faas_location(location => "access_log $log faas_meter;\n"
                                    . "faas_read_timeout 1s;"));

my ($ended, $good, $exact) = (0, 0, 0);

for my $n (1 .. $iterations) {
    my (undef, $head, $body) = response($n);
    my $t0 = time;
    my $r = $t->http_get("/fn/f?n=$n", timeout => 10);
    # an answer, or (a response cut after its header) a closed connection
    if (($r && $r->{status}) || time - $t0 < 8) {
        $ended++;
    } else {
        diag("request $n: no end");
    }
    next unless defined $head;
    $good++;
    my $want = $head =~ /^Status: 204/ ? '' : $body;
    $exact++ if $r && $r->{status} =~ /^(200|201|302|204)$/
                && $r->{body} eq $want;
}

diag("$iterations responses, $good well formed");
is($ended, $iterations, 'every request ended: answered, or closed when '
   . 'its response broke after the header');
my @raw = grep { /[^\x20-\x7e]/ } split /\n/, $t->error_log;
is(scalar @raw, 0, "nginx's error log holds no byte a function chose, "
   . 'unescaped') or diag(join "\n", map { s/([^\x20-\x7e])/sprintf '<%02x>',
                                                  ord $1/ger } @raw[0 .. 2]);
is($exact, $good, 'every well-formed response came through whole');
unlike($t->error_log, qr/worker process \d+ exited on signal/,
       "nginx's worker never died");
ok(FaasTest::wait_for(sub { -s $log }, 5), 'the meter log was written');

$t->done;

done_testing;
