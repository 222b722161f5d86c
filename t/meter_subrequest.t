#!/usr/bin/perl

# A function invoked by a subrequest (auth_request, mirror, an SSI
# include) has no line of its own in nginx's access log: log_subrequest
# is off by default, and the main request's line is the location's, not
# the function's. Promise: each such invocation is metered once, in
# meter_log (trigger=subrequest, the status it answered), never in both
# (with log_subrequest on, nginx's line of it has no outcome), and
# "fcgi-runner meter" counts each once. A main request through
# faas_pass is metered in nginx's log as before.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;

my $t = FaasTest->new;
my $p = $t->prefix;
my $meter = "$p/meter.log";
my $log = "$p/logs/faas.log";

$t->ok_function('sub');
# one that crashes: a 502 nginx sees (its line would say error)
$t->function('crash', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nkill -SEGV \$\$\n");
# one whose header block nginx refuses (over its buffer): the runner
# saw an answer and meters it; nginx's line of it says nothing
$t->function('bighead', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'X-Big: %05000d\\r\\n\\r\\n"
                       . "body\\n' 0\n");
# a function that says no: auth_request answers 403 for it
$t->function('deny', "exec = ./run.sh\nmode = cgi\ntenant = other\n",
             'run.sh' => "#!/bin/sh\nprintf 'Status: 403 Forbidden\\r\\n"
                       . "Content-Type: text/plain\\r\\n\\r\\nno\\n'\n");

mkdir "$p/html";
FaasTest::write_file("$p/html/page.txt", "the page\n");
FaasTest::write_file("$p/html/inc.html",
                     "before <!--# include virtual=\"/fn/sub\" --> after\n");
FaasTest::write_file("$p/html/crash.html",
                     "before <!--# include virtual=\"/fn/crash\" --> "
                     . "<!--# include virtual=\"/fn/bighead\" --> after\n");

$t->start_runner(conf => "meter_log = $meter\n");
# log_subrequest where the subrequests run (the function's location,
# here all): nginx writes their lines too, and they count nothing
$t->start_nginx(FaasTest::meter_log_format() . "    log_subrequest on;\n"
                . $t->faas_location(
    location => "access_log $log faas_meter;",
    extra => <<"EOF"));
        location = /authed/page.txt {
            auth_request /fn/sub;
            alias $p/html/page.txt;
            access_log $log faas_meter;
        }
        location = /denied/page.txt {
            auth_request /fn/deny;
            alias $p/html/page.txt;
            access_log $log faas_meter;
        }
        location = /mirrored/page.txt {
            mirror /fn/sub;
            alias $p/html/page.txt;
            access_log $log faas_meter;
        }
        location = /ssi/inc.html {
            ssi on;
            alias $p/html/inc.html;
            access_log $log faas_meter;
        }
        location = /logged/inc.html {
            ssi on;
            log_subrequest on;
            alias $p/html/inc.html;
            access_log $log faas_meter;
        }
        location = /logged/crash.html {
            ssi on;
            log_subrequest on;
            alias $p/html/crash.html;
            access_log $log faas_meter;
        }
EOF

my $r = $t->http_get('/authed/page.txt');
is($r->{status}, 200, 'auth_request by a function: 200');
is($r->{body}, "the page\n", '... the page');
is($t->http_get('/denied/page.txt')->{status}, 403,
   'auth_request by a function that says no: 403');
is($t->http_get('/mirrored/page.txt')->{status}, 200, 'mirror: 200');
like($t->http_get('/ssi/inc.html')->{body}, qr/^before ok\n after$/,
     'SSI include of a function');
like($t->http_get('/logged/inc.html')->{body}, qr/^before ok\n after$/,
     '... with log_subrequest on');
is($t->http_get('/fn/sub')->{status}, 200, 'the function itself');
like($t->http_get('/logged/crash.html')->{body}, qr/^before /,
     'SSI include of a function that crashes, log_subrequest on');

sub lines {
    my ($file, $re) = @_;
    return grep { /$re/ } split /\n/, (FaasTest::read_file($file) // '');
}

ok(FaasTest::wait_for(sub { lines($meter, qr/trigger=subrequest/) >= 7 }, 30),
   'seven subrequests in meter_log') or diag(FaasTest::read_file($meter));
my @sub = lines($meter, qr/trigger=subrequest/);
is(scalar(grep { /function=sub tenant=\S+ status=200 outcome=ok / } @sub), 4,
   '... four of "sub", status 200, outcome ok')
    or diag(join "\n", @sub);
is(scalar(grep { /function=deny tenant=other status=403 outcome=ok / } @sub),
   1, '... the one that said no: 403, its own tenant');
is(scalar(grep { / cpu=[\d.]+ / && / duration=[\d.]+ / } @sub), 7,
   '... each with its figures');
is(scalar(grep { /function=crash .*status=502 outcome=crashed / } @sub), 1,
   '... the crash: 502, crashed');

# nginx's log: the main request through faas_pass has the figures; a
# subrequest's line (log_subrequest on) has no outcome: never in both
ok(FaasTest::wait_for(sub { lines($log, qr/function=sub .*outcome=ok /) >= 1 },
                      30), 'the main request\'s line is there');
ok(FaasTest::wait_for(sub { lines($log, qr/function=crash /) >= 1 }, 30),
   'a subrequest\'s line is there (log_subrequest on)')
    or diag(FaasTest::read_file($log));
sleep 0.5;
my @nginx = lines($log, qr/./);
is(scalar(grep { /function=sub .*outcome=ok / } @nginx), 1,
   'nginx\'s log: the main request\'s invocation only')
    or diag(join "\n", @nginx);

my $j = eval { decode_json(scalar
    `$FaasTest::RUNNER meter --format json $log $meter`) } // {};
my ($g) = grep { $_->{name} eq 'sub' } @{ $j->{groups} // [] };
is($g->{invocations}, 5, 'fcgi-runner meter: five invocations of "sub", '
   . 'each once') or diag(explain $j);
my ($d) = grep { $_->{name} eq 'deny' } @{ $j->{groups} // [] };
is($d->{invocations}, 1, '... one of "deny"');
my ($c) = grep { $_->{name} eq 'crash' } @{ $j->{groups} // [] };
is($c->{invocations}, 1, '... one of "crash", its 502 in nginx\'s '
   . 'subrequest line not counted again') or diag(FaasTest::read_file($log));
is($c->{outcomes}{crashed}, 1, '... crashed');
my ($b) = grep { $_->{name} eq 'bighead' } @{ $j->{groups} // [] };
is($b->{invocations}, 1, '... one of "bighead", nginx\'s error line of it '
   . 'not counted again') or diag(FaasTest::read_file($log));

$t->done;
done_testing;
