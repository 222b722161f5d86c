#!/usr/bin/perl

# Without meter_log, what nginx's access log does not meter is billed
# nowhere: a run whose client left before its end. The runner says so
# in its log, once, naming the function; a run nginx meters says
# nothing. (With meter_log: t/runner_client_gone.t.)

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

$SIG{PIPE} = 'IGNORE';

my $t = FaasTest->new;
my $p = $t->prefix;

$t->function('slow', "exec = ./run\nmode = cgi\n", run => <<'EOF');
#!/bin/sh
sleep "${QUERY_STRING:-0}"
printf 'Content-Type: text/plain\r\n\r\nslept\n'
EOF
chmod 0755, $t->functions_dir . '/slow/run';

$t->start_runner;
$t->start_nginx(FaasTest::meter_log_format()
                . $t->faas_location(location => "access_log $p/logs/meter.log "
                                                . "faas_meter;"));

my $warn = qr/a run of "slow" that nginx's access log does not meter .* is billed nowhere: meter_log is not set/;

my $r = $t->http_get('/fn/slow');
is($r && $r->{status}, 200, 'a run nginx meters');
unlike($t->runner_log, $warn, '... says nothing');

# two clients that leave while their run goes on
for (1, 2) {
    my $s = $t->http_start('/fn/slow?1');
    select(undef, undef, undef, 0.3);
    close $s;
}
ok($t->wait_log(qr/(?s:its client left ended.*){2}/, 15),
   'both runs went on to their end');
my $n = () = $t->runner_log =~ /$warn/g;
is($n, 1, 'the runner says once that they are billed nowhere');

$t->done;

done_testing;
