#!/usr/bin/perl

# A CGI function that writes its header block a few bytes at a time:
# the runner scanned the whole block again at each read, n^2 in its
# lines (22k lines of 3 bytes: seconds of the runner's one thread, every
# other function waiting). Promise: the runner's CPU for such a block
# is a small part of the time the function takes to write it, and its
# answer is the one the same block written at once gets.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time);

my $t = FaasTest->new;

$t->function('drip', "exec = " . $t->program("$FaasTest::BUILD/t/cgi") . "\n"
             . "mode = cgi\ntimeout = 60s\n");

$t->start_runner;
# nginx takes a header block of 64 KiB here: the answer is the block's
$t->start_nginx($t->faas_location(location => 'faas_buffer_size 128k;'));

sub cpu_ticks {
    my $s = FaasTest::read_file('/proc/' . $t->runner_pid . '/stat') // '';
    my @f = split / /, (split /\) /, $s, 2)[1] // '';
    return ($f[11] // 0) + ($f[12] // 0);
}

# 16,000 lines (48 KB), 100 us apart
my $r1 = $t->http_get('/fn/drip?drip=16000', timeout => 60);
my $before = cpu_ticks();
my $t0 = time;
my $r2 = $t->http_get('/fn/drip?drip=16000&us=100', timeout => 60);
my $wall = time - $t0;
my $used = (cpu_ticks() - $before) / 100;
is($r2->{status}, $r1->{status}, "dripped: the status of the block "
   . "written at once ($r1->{status})");
is($r2->{body}, $r1->{body}, '... and its body');
# the scan from the start kept the runner busy all along (and after);
# a read a line is a few microseconds each
cmp_ok($used, '<', $wall / 3, sprintf("the runner's CPU for it: %.2f s "
       . "of the %.2f s it took", $used, $wall));
is($t->http_get('/fn/drip?drip=10')->{status}, 200, 'the runner serves on');

$t->done;

done_testing;
