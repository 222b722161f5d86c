#!/usr/bin/perl

# A connection to the runner carries one request, id 1: a record for any
# other request id is an upstream error, as in nginx's own fastcgi
# module, wherever it comes (the first record, amid the header block,
# amid the body, the END_REQUEST). Promise: nothing of such a record
# reaches the client; before the response header the client gets 502;
# the error log names the id; the connection is not kept.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record);
use Test::More;

my $t = FaasTest->new;

my $head = "Content-Type: text/plain\r\n\r\n";
my $end1 = fcgi_record(3, 1, pack('NCx3', 0, 0));

my %answer = (
    first => fcgi_record(6, 2, "${head}SMUGGLED\n") . $end1,
    zero => fcgi_record(6, 0, "${head}SMUGGLED\n") . $end1,
    midhead => fcgi_record(6, 1, "Content-Type: text/plain\r\n")
             . fcgi_record(6, 2, "X-Smuggled: 1\r\n\r\nSMUGGLED\n") . $end1,
    midbody => fcgi_record(6, 1, "${head}good\n")
             . fcgi_record(6, 257, "SMUGGLED\n") . fcgi_record(6, 1, '')
             . $end1,
    end => fcgi_record(6, 1, "${head}good\n") . fcgi_record(6, 1, '')
         . fcgi_record(3, 2, pack('NCx3', 0, 0)),
    good => fcgi_record(6, 1, "${head}good\n") . fcgi_record(6, 1, '')
          . $end1,
);

$t->fake_upstream(sub {
    my ($p) = @_;
    return $answer{ $p->{FAAS_FUNCTION} } // $answer{good};
});

$t->{port} = FaasTest::free_port();
$t->start_nginx($t->faas_location);

for my $name (qw(first zero midhead)) {
    my $r = $t->http_get("/fn/$name");
    is($r && $r->{status}, 502, "$name: 502");
    unlike($r ? $r->{raw} : '', qr/SMUGGLED|X-Smuggled/,
           "$name: nothing of the other request's record");
}

my $r = $t->http_get('/fn/midbody');
unlike($r ? $r->{raw} : '', qr/SMUGGLED/,
       'amid the body: nothing of the other request reaches the client');

$r = $t->http_get('/fn/good');
is($r && $r->{status}, 200, 'a well-formed answer after them: 200');
is($r && $r->{body}, "good\n", '... whole');

like($t->error_log, qr/upstream sent a record for FastCGI request 2, not 1/,
     'the id is in the error log');
like($t->error_log, qr/request 257, not 1/, 'a high byte counts too');
like($t->error_log, qr/request 0, not 1/, 'id 0 (management) too');

$t->done;

done_testing;
