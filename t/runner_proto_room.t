#!/usr/bin/perl

# Idle prototypes are bounded. A prototype stays
# prototype_idle_timeout after its function's last worker, holding its
# namespaces, its /tmp (up to its function's memory, whatever was left
# there) and two of the runner's descriptors; a tenant makes as many
# functions as it likes. Promise: a tenant keeps at most 16 idle
# prototypes, the host four a max_workers (the one idle the longest
# stops for a new one, said in the log), another tenant's are not touched, a function whose prototype
# went is served all the same (a new prototype, cold).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use JSON::PP;
use Test::More;

FaasTest::need_root('prototypes (isolation) need a root runner');

my $t = FaasTest->new;

my $run = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nhi\\n'\n";
my @many = map { sprintf 'm%02d', $_ } 1 .. 20;
$t->function($_, "exec = ./run.sh\nmode = cgi\ntenant = other\n",
             'run.sh' => $run) for qw(o1 o2);
$t->function($_, "exec = ./run.sh\nmode = cgi\ntenant = many\n",
             'run.sh' => $run) for @many;

$t->start_runner;
$t->start_nginx($t->faas_location);

sub live {
    my $out = `$t->{runner_bin} status --listen unix:@{[ $t->socket_path ]} --format json 2>&1`;
    my $j = eval { decode_json($out) } or return -1;
    return $j->{runner}{prototypes}{live};
}

sub started {
    my ($fn) = @_;
    my @n = $t->runner_log =~ /prototype \d+ of "$fn" started/g;
    return scalar @n;
}

for my $fn (qw(o1 o2), @many) {
    is($t->http_get("/fn/$fn")->{body}, "hi\n", "$fn served");
}

ok(FaasTest::wait_for(sub { live() == 18 }, 10),
   '16 idle prototypes of tenant many and 2 of other: 18 live')
    or diag('live: ' . live());
my $said = '(16 idle of tenant "many"';
my @room = $t->runner_log =~ /idle, stopped: room for one of "m\d+" \Q$said\E/g;
is(scalar @room, 4, 'the 4 over 16 stopped, each said');
like($t->runner_log, qr/prototype \d+ of "m01" idle, stopped: room for one of "m17"/,
     '... the one idle the longest first');

is($t->http_get('/fn/o1')->{body}, "hi\n", 'the other tenant\'s function');
is(started('o1'), 1, '... on the prototype it had');

is($t->http_get('/fn/m01')->{body}, "hi\n",
   'a function whose prototype was stopped: served');
is(started('m01'), 2, '... by a new prototype');
ok(FaasTest::wait_for(sub { live() == 18 }, 10), '... and still 18 live');

# the host keeps four a max_workers: with max_workers = 4, 16 in all
is($t->stop_runner, 0, 'the runner stops');
$t->start_runner(conf => "max_workers = 4\n");
for my $fn (qw(o1 o2), @many) {
    $t->http_get("/fn/$fn");
}
ok(FaasTest::wait_for(sub { live() == 16 }, 10),
   'max_workers = 4: 16 idle prototypes on the host')
    or diag('live: ' . live());
like($t->runner_log, qr/room for one of "m\d+" \(\d+ idle of tenant "many", (?x)
                         16\ of\ the\ host\)/, '... said');

$t->done;
done_testing;
