#!/usr/bin/perl

# mode = cgi: a process per request, RFC 3875 meta-variables, the body on
# stdin, the CGI response parsed, max_instances and timeout enforced.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);
use Digest::MD5 qw(md5_hex);

my $t = FaasTest->new;

# env.* of the request's names: what nginx and the runner say wins
$t->function('env', "exec = ./env.sh\nmode = cgi\nenv.GREETING = hi\n"
             . "env.REMOTE_ADDR = 6.6.6.6\nenv.HTTP_HOST = forged\n"
             . "env.FAAS_FUNCTION = other\nenv.GATEWAY_INTERFACE = no\n",
             'env.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n"
                       . "\\r\\n'\n/usr/bin/env | /usr/bin/sort\n");
$t->function('cat', "exec = ./cat.sh\nmode = cgi\n",
             'cat.sh' => "#!/bin/sh\nprintf 'Content-Type: application/"
                       . "octet-stream\\r\\n\\r\\n'\nexec /bin/cat\n");
$t->function('status', "exec = ./s.sh\nmode = cgi\n",
             's.sh' => "#!/bin/sh\nprintf 'Status: 418 Teapot\\r\\n"
                     . "X-Mine: 1\\r\\n\\r\\nshort and stout\\n'\n");
$t->function('redirect', "exec = ./r.sh\nmode = cgi\n",
             'r.sh' => "#!/bin/sh\nprintf 'Location: http://example.com/x"
                     . "\\n\\n'\n");
$t->function('lf', "exec = ./lf.sh\nmode = cgi\n",
             'lf.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n"
                      . "lf only\\n'\n");
$t->function('nohead', "exec = ./n.sh\nmode = cgi\n",
             'n.sh' => "#!/bin/sh\necho 'just a body, no header'\n");
$t->function('silent', "exec = ./q.sh\nmode = cgi\n",
             'q.sh' => "#!/bin/sh\nexit 0\n");
$t->function('noread', "exec = ./nr.sh\nmode = cgi\n",
             'nr.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n"
                      . "\\r\\nignored your body\\n'\n");
$t->function('sleepy', "exec = ./z.sh\nmode = cgi\nmax_instances = 2\n"
                       . "timeout = 2s\n",
             'z.sh' => "#!/bin/sh\nsleep \${QUERY_STRING:-1}\n"
                     . "printf 'Content-Type: text/plain\\r\\n\\r\\nawake "
                     . "%s\\n' \$\$\n");
$t->function('stderr', "exec = ./e.sh\nmode = cgi\n",
             'e.sh' => "#!/bin/sh\necho 'cgi complains' >&2\n"
                     . "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
# exec names a relative path from the folder, "./" or not; a bare name
# that is nothing there is a program of PATH's
$t->function('bare', "exec = b.sh\nmode = cgi\n",
             'b.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n"
                     . "\\r\\n'\necho from the folder\n");
$t->function('onpath', "exec = printf 'Content-Type: text/plain\\r\\n"
             . "\\r\\nfrom PATH\\n'\nmode = cgi\n");
$t->start_runner(env => { RUNNER_SECRET => 'leak' });
$t->start_nginx;

is($t->http_get('/fn/bare')->{body}, "from the folder\n",
   'exec = b.sh: the folder\'s b.sh');
is($t->http_get('/fn/onpath')->{body}, "from PATH\n",
   'exec = printf: not in the folder, PATH\'s');
like($t->runner_log, qr{loaded}, 'and both load');
unlike($t->runner_log, qr/exec "(b\.sh|printf)" is not an executable/,
       '... with no word of a missing program');

my $r = $t->http("GET /fn/env/extra/path?a=1&b=2 HTTP/1.0\r\n"
                 . "Host: localhost\r\nX-Custom: yes\r\n\r\n");
is($r->{status}, 200, 'CGI script answers');
my %env = map { /^([^=]+)=(.*)$/ ? ($1, $2) : () } split /\n/, $r->{body};
is($env{GATEWAY_INTERFACE}, 'CGI/1.1', 'GATEWAY_INTERFACE');
is($env{REQUEST_METHOD}, 'GET', 'REQUEST_METHOD');
is($env{QUERY_STRING}, 'a=1&b=2', 'QUERY_STRING');
is($env{PATH_INFO}, '/extra/path', 'PATH_INFO');
is($env{SERVER_PROTOCOL}, 'HTTP/1.0', 'SERVER_PROTOCOL');
is($env{REMOTE_ADDR}, '127.0.0.1', 'REMOTE_ADDR');
is($env{SERVER_PORT}, $t->port, 'SERVER_PORT');
is($env{HTTP_X_CUSTOM}, 'yes', 'request headers as HTTP_*');
is($env{GREETING}, 'hi', 'env.* from function.conf');
is($env{HTTP_HOST}, 'localhost', 'an env.* of a request header\'s name: '
   . 'the request\'s');
is($env{FAAS_FUNCTION}, 'env', '... of FAAS_FUNCTION: the runner\'s');
is(scalar(grep { /^(REMOTE_ADDR|HTTP_HOST|GATEWAY_INTERFACE)=/ }
          split /\n/, $r->{body}), 3, '... each name once');
# a client's Proxy: header as stock fastcgi_params passes it ("httpoxy"):
# never a CGI's HTTP_PROXY
my $px = $t->fcgi_call('env', params => [HTTP_PROXY => 'http://evil:1',
                                         HTTP_X_OK => 'yes']);
like($px->{stdout}, qr/^HTTP_X_OK=yes$/m, 'a FastCGI client\'s HTTP_* arrive');
unlike($px->{stdout}, qr/HTTP_PROXY|evil/, '... but HTTP_PROXY (httpoxy)');
is($env{FAAS_FUNCTION}, 'env', 'FAAS_FUNCTION');
ok(!exists $env{RUNNER_SECRET}, 'nothing of the runner environment');
ok(!grep({ /^LD_/ } keys %env), 'no LD_* variables');
is($env{PATH}, '/usr/local/bin:/usr/bin:/bin', 'a fixed default PATH');

$r = $t->http_post('/fn/env', 'abc', headers => "Content-Type: text/x\r\n");
%env = map { /^([^=]+)=(.*)$/ ? ($1, $2) : () } split /\n/, $r->{body};
is($env{CONTENT_LENGTH}, 3, 'CONTENT_LENGTH');
is($env{CONTENT_TYPE}, 'text/x', 'CONTENT_TYPE');
is($env{REQUEST_METHOD}, 'POST', 'POST');

# the body on stdin, byte-exact
my $body = join '', map { chr(int(rand(256))) } 1 .. 2_000_000;
$r = $t->http_post('/fn/cat', $body);
is($r->{status}, 200, 'cat: 200');
is(length $r->{body}, length $body, 'cat: 2 MB back');
is(md5_hex($r->{body}), md5_hex($body), 'cat: byte-exact');

$r = $t->http_post('/fn/noread', 'x' x 3_000_000);
is($r->{status}, 200, 'a script that ignores its body: 200');
like($r->{body}, qr/ignored your body/, 'its answer');

$r = $t->http_get('/fn/status');
is($r->{status}, 418, 'Status: header');
is(FaasTest::header($r, 'x-mine'), '1', 'other headers');
is($r->{body}, "short and stout\n", 'body');

$r = $t->http_get('/fn/redirect');
is($r->{status}, 302, 'Location: alone is a redirect');
is(FaasTest::header($r, 'location'), 'http://example.com/x', 'to there');

$r = $t->http_get('/fn/lf');
is($r->{status}, 200, 'no Status: is 200, LF-only lines accepted');
is($r->{body}, "lf only\n", 'its body');

$r = $t->http_get('/fn/nohead');
is($r->{status}, 502, 'no CGI header: 502');
$r = $t->http_get('/fn/silent');
is($r->{status}, 502, 'no output at all: 502');
like($t->runner_log, qr/"silent" \(pid \d+\) sent no response/, 'logged');

$r = $t->http_get('/fn/stderr');
is($r->{status}, 200, 'stderr does not spoil the answer');
ok(FaasTest::wait_for(sub { $t->error_log =~ /cgi complains/ }, 5),
   'stderr reaches the nginx error log');

# max_instances bounds concurrent processes
my @s = map { $t->http_start('/fn/sleepy?0.5') } 1 .. 5;
my $most = 0;
my $end = time + 1.2;
while (time < $end) {
    my $n = $t->workers('sleepy');
    $most = $n if $n > $most;
    sleep 0.02;
}
my @r = map { FaasTest::http_finish($_) } @s;
is(scalar(grep { $_->{status} == 200 } @r), 5, 'five requests served');
is($most, 2, 'at most max_instances = 2 at a time');

# timeout kills the script
my $t0 = time;
$r = $t->http_get('/fn/sleepy?30');
is($r->{status}, 504, 'timeout: 504');
ok(time - $t0 < 6, 'after about the timeout');
ok(FaasTest::wait_for(sub { $t->workers('sleepy') == 0
                            && !grep { FaasTest::proc_cwd($_) =~ /sleepy$/ }
                                     $t->leftovers }, 5),
   'the script and its sleep are gone');

$t->done;
done_testing;
