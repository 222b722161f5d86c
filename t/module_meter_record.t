#!/usr/bin/perl

# The module reads the measurements record whatever FastCGI length form
# its pairs use (one byte under 128, four bytes with the high bit set:
# the specification allows four for any length), and records split at
# any byte. Promise: $faas_* variables come out right; a malformed
# record leaves the variables empty and the response intact.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record);
use Test::More;

my $t = FaasTest->new;

sub pair4 {
    my ($k, $v) = @_;
    return pack('NN', length($k) | 0x80000000, length($v) | 0x80000000)
           . $k . $v;
}

sub pair1 {
    my ($k, $v) = @_;
    return pack('CC', length $k, length $v) . $k . $v;
}

my $tenant = 'tenant_' . ('x' x 57);     # 64 characters

my %meter = (
    four => join('', pair4(function => 'f'), pair4(tenant => $tenant),
                 pair4(outcome => 'ok'), pair4(duration => '1500'),
                 pair1(cold => '1'), pair4(memory_size => '262144')),
    bad => pair1(outcome => 'ok') . "\x85\0",
);

$t->fake_upstream(sub {
    my ($p) = @_;
    my $which = $p->{FAAS_FUNCTION};
    return fcgi_record(6, 1, "Content-Type: text/plain\r\n\r\nbody $which\n")
         . fcgi_record(6, 1, '')
         . fcgi_record(100, 1, $meter{$which})
         . fcgi_record(3, 1, pack('NCx3', 0, 0));
}, split => 3);

$t->{port} = FaasTest::free_port();
my $log = $t->prefix . '/logs/faas.log';
$t->start_nginx("    log_format m 'fn=\$faas_function tenant=\$faas_tenant "
                . "outcome=\$faas_status duration=\$faas_duration "
                . "cold=\$faas_cold memory_size=\$faas_memory_size';\n"
                . $t->faas_location(location => "access_log $log m;"));

my $r = $t->http_get('/fn/four');
is($r->{status}, 200, 'answered');
is($r->{body}, "body four\n", 'body intact');

$r = $t->http_get('/fn/bad');
is($r->{body}, "body bad\n", 'a malformed record: the body is intact');

FaasTest::wait_for(sub { FaasTest::read_file($log) =~ /fn=bad/ }, 5);
my @lines = split /\n/, FaasTest::read_file($log);

my $want = qr/cold=1 memory_size=262144$/;
like($lines[0], qr/^fn=four tenant=\Q$tenant\E outcome=ok duration=1\.500 $want/,
     'four-byte lengths, split every 3 bytes: every variable');
like($lines[1], qr/^fn=bad tenant=- outcome=ok /,
     'a truncated pair: what came before it is kept, the rest empty');

$t->done;

done_testing;
