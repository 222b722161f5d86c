#!/usr/bin/perl

# A function folder of 200,000 files (a customer's cache, or a hostile
# one's): each reload looked at every file and kept a line of each in
# the runner's memory (400,000 held a reload 2.5 s and 50 MB). Promise:
# past 10,000 files the rest are only named, so a reload stays small;
# a file added past them still changes the function, and it serves.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new(runner => FaasTest::memory_runner());
my $dir = $t->function('many', "exec = " . FaasTest::testfn() . "\n");
my $n = 200_000;
for my $i (1 .. $n) {
    open(my $fh, '>', "$dir/f$i") or die "f$i: $!";
}

my $pid = $t->start_runner;
$t->start_nginx($t->faas_location);
is($t->http_get('/fn/many?op=pid')->{status}, 200, "a folder of $n files: "
   . 'served');

# the reload that sees a file more (past the first 10,000 in any order)
my $rss0 = FaasTest::proc_rss($pid);
FaasTest::write_file("$dir/added", '');
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "many" changed/, 60),
   'a file added among them: the function changed');
is($t->http_get('/fn/many?op=pid')->{status}, 200, '... and serves');
my $rss1 = FaasTest::proc_rss($pid);

SKIP: {
    skip 'the sanitizer build keeps freed memory', 1
        unless FaasTest::rss_measured();
    cmp_ok($rss1, '<', 8192, "the runner keeps no line of each file "
           . "(resident $rss0 kB, $rss1 kB after the reload)");
}

# a second reload with nothing changed: the same function, not changed
my $changed = () = $t->runner_log =~ /function "many" changed/g;
$t->signal_runner('HUP');
ok($t->wait_log(qr/(?s:reloading.*reloading)/, 20), 'reloaded again');
sleep 2;
my $again = () = $t->runner_log =~ /function "many" changed/g;
is($again, $changed, '... nothing changed: not changed');

$t->done;
system('rm', '-rf', $dir);

done_testing;
