#!/usr/bin/perl

# stderr with no client to take it is logged at most 8 KB a second a
# worker; a customer with many workers multiplied that (16 were 2,800
# lines a second; 256, the shipped max_workers, 2.4 MB a second: past
# journald's rate limit, which then drops every tenant's lines, the
# runner's warnings too). Promise: a tenant's workers together log at
# most 32 KB a second (about 500 short lines), the rest counted; another
# tenant's worker logs its own share meanwhile.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);
use File::Copy ();

FaasTest::need_root('tenants');

my $t = FaasTest->new;
my $fn = $t->testfn;

# 12 workers that flood stderr from the start, and one of another tenant
# (the worker a copy in the folder: its own /tmp hides the test's)
for (['flood', 'mallory', 12, 'a'], ['other', 'alice', 1, 'b']) {
    my ($name, $tenant, $n, $what) = @$_;
    my $dir = $t->function($name, "exec = ./run.sh\ntenant = $tenant\n"
                                  . "min_instances = $n\nmax_instances = $n\n",
                           'run.sh' => "#!/bin/sh\n( yes $what >&2 ) &\n"
                                       . "exec ./testfn\n");
    File::Copy::copy($fn, "$dir/testfn") or die "copy: $!";
    chmod 0755, "$dir/testfn";
}
$t->start_runner;

sub lines {
    my ($name, $what) = @_;
    my $n = () = $t->runner_log =~ /"$name" \(pid \d+\) stderr: "$what"$/mg;
    return $n;
}

ok(FaasTest::wait_for(sub { $t->workers('flood') == 12
                            && $t->workers('other') == 1 }, 20),
   '12 workers of one tenant and 1 of another');
sleep 2;

my ($f0, $o0, $t0) = (lines('flood', 'a'), lines('other', 'b'), time);
sleep 5;
my ($f1, $o1, $t1) = (lines('flood', 'a'), lines('other', 'b'), time);
my $fr = ($f1 - $f0) / ($t1 - $t0);
my $or = ($o1 - $o0) / ($t1 - $t0);

# 32 KB a second of 66 each ("a" and the line's own 64): 496; 12 workers
# of 124 each were 1,488
ok($fr > 50 && $fr < 750, sprintf('the flooding tenant: %.0f lines a '
                                   . 'second, its 12 workers together', $fr));
ok($or > 30 && $or < 200, sprintf('the other tenant\'s worker meanwhile: '
                                  . '%.0f lines a second, its own', $or));
ok(FaasTest::wait_for(sub { $t->runner_log =~ /"flood" \(pid \d+\): \d+ bytes of stderr not logged, over 8192 bytes a second \(32768 for its tenant's workers together\)/ }, 10),
   'what was not logged is counted');

$t->done;
done_testing;
