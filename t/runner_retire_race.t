#!/usr/bin/perl

# A FastCGI worker that retires itself (its own request limit: it
# returns after its last answer, its connection kept) while the runner
# has sent it the next request, or is about to. Whichever the runner
# learns first, the connection's reset, its clean end or the worker's
# exit, the request it never read goes to another worker: no client
# sees a 502 for it, no crash is counted (README, "What clients get
# when things go wrong"). Workers of one request each: a request sent
# again meets another on its way out one time in seven. A CI run had
# one 502 here (its runner log not kept, now said below): a request
# that met a fifth such worker (the bound was 4), or a clean end read
# before the request's write (taken for a read request).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('retire', "exec = $fn\nmax_instances = 2\nqueue_timeout = 10s\n"
                       . "env.TESTFN_RETIRE = 1\n");
$t->start_runner;
$t->start_nginx;

is($t->http_get('/fn/retire')->{status}, 200, 'a retiring worker answers');

# eight clients, each its requests one after another, for a bounded time
my @loads = map { $t->load_start('/fn/retire', 12) } 1 .. 8;
my %n;
for my $l (@loads) {
    for (split ' ', FaasTest::load_result($l)) {
        my ($k, $v) = split /=/, $_, 2;
        $n{$k} += $v;
    }
}

my $all = 0;
$all += $_ for values %n;
my $ok = $n{200} // 0;
cmp_ok($all, '>', 100, "a hundred requests or more ($all)");
is($ok, $all, 'every one answered 200: '
   . join(' ', map { "$_=$n{$_}" } sort keys %n));

my $log = $t->runner_log;
my $retried = () = $log =~ /of "retire" \w[^\n]* before answering, retrying/g;
my $crashes = () = $log =~ /of "retire" [^\n]*(?:mid-request|way out)/g;
is($crashes, 0, 'no worker said to break a request mid-request');
my $serving = () = $log =~ /while serving a request/g;
is($serving, 0, 'none said to have ended while serving a request');
note("requests sent again: $retried");

my $st = `@{[ $t->runner_bin_name ]} status --listen unix:@{[
             $t->socket_path ]} --format json 2>&1`;
like($st, qr/"invocations":\{[^}]*"crashed":0,/,
     'the status counts no crash');
unlike($st, qr/"crashed":[1-9]/, '... anywhere');

# what the runner said of the requests that failed, for the next reader
diag($_) for grep { /mid-request|while serving|way out/ } split /\n/, $log;

$t->done;
done_testing;
