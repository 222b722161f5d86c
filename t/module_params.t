#!/usr/bin/perl

# Every parameter a CGI program relies on, sent by the module itself (no
# fastcgi_params); faas_param adds and overrides; HTTPS under TLS.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;
$t->function('env', "exec = $fn\n");
$t->start_runner;
$t->{port} = FaasTest::free_port();
my $tls = FaasTest::free_port();
my $p = $t->prefix;

system("openssl req -x509 -newkey rsa:2048 -nodes -keyout $p/key.pem "
       . "-out $p/cert.pem -days 2 -subj /CN=localhost >/dev/null 2>&1") == 0
    or BAIL_OUT('openssl cannot make a test certificate');

my $sock = $t->socket_path;
$t->start_nginx(<<"EOF");
    upstream runner { server unix:$sock; keepalive 4; }

    log_format ids '\$request_id';

    server {
        listen 127.0.0.1:$t->{port};
        listen 127.0.0.1:$tls ssl;
        server_name example.test;
        ssl_certificate $p/cert.pem;
        ssl_certificate_key $p/key.pem;
        root $p/docroot;

        faas_param SERVER_NAME overridden.test;
        faas_param EXTRA "a \$arg_x value";
        faas_param EMPTY_SKIPPED \$arg_none if_not_empty;
        faas_param EMPTY_KEPT \$arg_none;
        faas_param HTTP_X_OVERRIDE from-config;
        faas_param Http_X_Case lower-config;
        faas_param HTTP_X_LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL long-config;

        location /fn/ {
            faas_route ^/fn/(?<name>[a-z]+)(?<path_info>/.*)?\$ \$name;
            faas_pass runner;
            access_log $p/logs/ids.log ids;
        }

        location /plain/ {
            faas_function env;
            faas_param ONLY_HERE yes;
            faas_pass runner;
        }
    }
EOF

sub params {
    my ($r) = @_;
    return { map { /^PARAM ([^=]+)=(.*)$/ ? ($1, $2) : () }
             split /\n/, $r->{body} };
}

my $r = $t->http("POST /fn/env/a%20b/c?op=env&x=1&y=%41 HTTP/1.1\r\n"
                 . "Host: example.test\r\nConnection: close\r\n"
                 . "Content-Type: text/x-test\r\nContent-Length: 5\r\n"
                 . "X-Custom-Header: custom\r\nX-Override: from-client\r\n"
                 . "X-Case: from-client\r\nX-LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL: long-client\r\n"
                 . "Proxy: http://evil/\r\nCookie: a=b\r\n\r\nhello"
                 . "", timeout => 10);
is($r->{status}, 200, 'request through the module');
my $e = params($r);

my %want = (
    REQUEST_METHOD => 'POST',
    QUERY_STRING => 'op=env&x=1&y=%41',
    CONTENT_TYPE => 'text/x-test',
    CONTENT_LENGTH => '5',
    SCRIPT_NAME => '/fn/env',
    PATH_INFO => '/a b/c',
    REQUEST_URI => '/fn/env/a%20b/c?op=env&x=1&y=%41',
    DOCUMENT_URI => '/fn/env/a b/c',
    DOCUMENT_ROOT => "$p/docroot",
    SERVER_PROTOCOL => 'HTTP/1.1',
    REQUEST_SCHEME => 'http',
    GATEWAY_INTERFACE => 'CGI/1.1',
    REMOTE_ADDR => '127.0.0.1',
    REMOTE_HOST => '127.0.0.1',
    SERVER_ADDR => '127.0.0.1',
    SERVER_PORT => $t->port,
    REDIRECT_STATUS => '200',
    FAAS_FUNCTION => 'env',
    HTTP_HOST => 'example.test',
    HTTP_X_CUSTOM_HEADER => 'custom',
    HTTP_COOKIE => 'a=b',
    SERVER_NAME => 'overridden.test',
    EXTRA => 'a 1 value',
    EMPTY_KEPT => '',
    HTTP_X_OVERRIDE => 'from-config',
    # names are exact: another case is another parameter
    HTTP_X_CASE => 'from-client',
    Http_X_Case => 'lower-config',
    # a name too long for the hashed lookup is still overridden
    'HTTP_X_' . ('L' x 300) => 'long-config',
);
for my $k (sort keys %want) {
    is($e->{$k}, $want{$k}, "$k");
}

like($e->{SERVER_SOFTWARE}, qr{^nginx/\d}, 'SERVER_SOFTWARE');
like($e->{REMOTE_PORT}, qr/^\d+$/, 'REMOTE_PORT');
like($e->{FAAS_REQUEST_ID}, qr/^[0-9a-f]{32}$/, 'FAAS_REQUEST_ID');
ok(!exists $e->{EMPTY_SKIPPED}, 'if_not_empty skips an empty value');
ok(!exists $e->{HTTP_PROXY}, 'no HTTP_PROXY from a Proxy: header');
ok(!exists $e->{HTTPS}, 'no HTTPS without TLS');
ok(!exists $e->{REMOTE_USER}, 'no REMOTE_USER without credentials');
ok(!exists $e->{ONLY_HERE}, 'faas_param of another location absent');
my @dup = grep { /^PARAM (SERVER_NAME|HTTP_X_OVERRIDE)=/ }
          split /\n/, $r->{body};
is(scalar @dup, 2, 'an override replaces, it does not add');

ok(FaasTest::wait_for(sub {
       FaasTest::read_file("$p/logs/ids.log") =~ /\Q$e->{FAAS_REQUEST_ID}\E/
   }, 5), 'FAAS_REQUEST_ID is $request_id of the access log');

# Basic credentials: REMOTE_USER (RFC 3875 4.1.11), as $remote_user;
# another scheme none
$r = $t->http("GET /fn/env?op=env HTTP/1.1\r\nHost: a\r\n"
              . "Authorization: Basic dXNlcjpwYXNz\r\nConnection: close\r\n\r\n");
is(params($r)->{REMOTE_USER}, 'user', 'Basic credentials: REMOTE_USER');
$r = $t->http("GET /fn/env?op=env HTTP/1.1\r\nHost: a\r\n"
              . "Authorization: Bearer abc\r\nConnection: close\r\n\r\n");
ok(!exists params($r)->{REMOTE_USER}, 'a Bearer token: no REMOTE_USER');
is(params($r)->{HTTP_AUTHORIZATION}, 'Bearer abc',
   '... the header as HTTP_AUTHORIZATION');

# HTTP_HOST is $host, as Debian's fastcgi_params: an absolute request
# target names the host, not a Host header that says otherwise; lower
# case, without the port; and one HTTP_HOST, never the raw header too
$r = $t->http("GET http://Example.TEST/fn/env?op=env HTTP/1.1\r\n"
              . "Host: malformed\r\nConnection: close\r\n\r\n");
is(params($r)->{HTTP_HOST}, 'example.test',
   'HTTP_HOST of an absolute request target, not the Host header');
is(scalar(grep { /^PARAM HTTP_HOST=/ } split /\n/, $r->{body}), 1,
   '... one HTTP_HOST');
$r = $t->http("GET /fn/env?op=env HTTP/1.1\r\nHost: Example.TEST:8080\r\n"
              . "Connection: close\r\n\r\n");
is(params($r)->{HTTP_HOST}, 'example.test', 'HTTP_HOST is $host: '
   . 'lower case, no port');
$r = $t->http("GET /fn/env?op=env HTTP/1.0\r\n\r\n");
is(params($r)->{HTTP_HOST}, 'example.test', 'no Host header: the '
   . 'server_name, as $host');

$e = params($t->http_get('/plain/x?op=env'));
is($e->{ONLY_HERE}, 'yes', 'location faas_param');
ok(!exists $e->{EXTRA}, 'replaces the server level list, as fastcgi_param');
is($e->{SCRIPT_NAME}, '/plain/x', 'SCRIPT_NAME of faas_function');

my $out = `curl -sk https://127.0.0.1:$tls/fn/env?op=env 2>&1`;
like($out, qr/^PARAM HTTPS=on$/m, 'HTTPS=on under TLS');
like($out, qr/^PARAM REQUEST_SCHEME=https$/m, 'REQUEST_SCHEME https');

$t->done;
done_testing;
