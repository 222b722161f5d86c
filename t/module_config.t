#!/usr/bin/perl

# nginx -t with the module: it loads into Debian's nginx, and bad
# configurations fail with messages that name the directive.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
$t->{port} = FaasTest::free_port();

sub nginx_t {
    my ($server) = @_;
    my $conf = $t->prefix . '/test.conf';
    FaasTest::write_file($conf, $t->nginx_conf_text(
        "upstream u { server unix:/tmp/none.sock; }\n"
        . "server { listen 127.0.0.1:$t->{port};\n$server\n}\n"));
    my $out = `@{[ FaasTest::nginx_binary() ]} -t -p @{[ $t->prefix ]}/ -c $conf 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = nginx_t(<<'EOF');
    faas_route ^/s/(?<name>[a-z]+)(?<path_info>/.*)?$ $name;
    faas_param X y;
    location /fn/ {
        faas_route ^/fn/([a-z]+) $1;
        faas_route ^/fn2/(?<n>[a-z]+) pre-$n;
        faas_pass u;
        faas_connect_timeout 2s;
        faas_send_timeout 3s;
        faas_read_timeout 4s;
        faas_param A $uri if_not_empty;
    }
    location = /f { faas_function users; faas_pass u; }
    location = /a { faas_function users; faas_invocation async; faas_pass u; }
    location = /h { faas_function users; faas_invocation_header on;
                    faas_pass u; }
    location = /s { faas_status; faas_pass u; }
    location = /t { faas_function users; faas_tenant alice; faas_pass u; }
    location /if/ { if ($arg_x) { faas_pass u; } faas_function x; }
    location /outer/ {
        faas_route ^/outer/([a-z]+) $1;
        location /outer/in/ { faas_pass u; }
    }
    location /status/ { faas_status; location = /status/x { faas_pass u; } }
EOF
is($rc, 0, 'a configuration with every directive: nginx -t passes')
    or diag($out);
like($out, qr/test is successful/, 'the module loads into this nginx');

my @bad = (
    [ 'location / { faas_route ^/(unclosed $1; faas_pass u; }',
      qr/invalid regex in "faas_route": .*missing closing parenthesis/ ],
    [ 'location / { faas_route ^/x $nosuchvar; faas_pass u; }',
      qr/unknown "nosuchvar" variable/, 'no line: nginx checks later' ],
    [ 'location / { faas_route ^/x ../etc; faas_pass u; }',
      qr/invalid function name "\.\.\/etc" in "faas_route"/ ],
    [ 'location / { faas_function -x; faas_pass u; }',
      qr/invalid function name "-x" in "faas_function"/ ],
    [ 'location / { faas_function a; faas_function b; faas_pass u; }',
      qr/"faas_function" directive is duplicate/ ],
    [ 'location / { faas_pass u; faas_pass u; }',
      qr/"faas_pass" directive is duplicate/ ],
    [ 'location / { faas_param A b sometimes; faas_pass u; }',
      qr/invalid parameter "sometimes" in "faas_param"/ ],
    # what the module tells the runner is its own: a FAAS_FUNCTION of
    # faas_param ran one function and logged (billed) the name it had
    [ 'location / { faas_function a; faas_param FAAS_FUNCTION $arg_f; '
      . 'faas_pass u; }',
      qr/"faas_param" cannot set "FAAS_FUNCTION": "faas_function"\ or(?x)
         \ "faas_route"\ names\ the\ function/ ],
    [ 'location / { faas_function a; faas_param faas_function b; '
      . 'faas_pass u; }',
      qr/"faas_param" cannot set "faas_function"/ ],
    [ 'location / { faas_function a; faas_param FAAS_INVOCATION async; '
      . 'faas_pass u; }',
      qr/"faas_param" cannot set "FAAS_INVOCATION": "faas_invocation"/ ],
    [ 'location / { faas_param FAAS_STATUS 1; faas_pass u; }',
      qr/"faas_param" cannot set "FAAS_STATUS"/ ],
    [ 'location / { faas_param faas_only_tenant x; faas_pass u; }',
      qr/"faas_param" cannot set "faas_only_tenant": "faas_tenant" sets it/ ],
    [ 'location / { faas_param FAAS_METER 1; faas_pass u; }',
      qr/"faas_param" cannot set "FAAS_METER"/ ],
    [ 'location / { faas_route ^/x; faas_pass u; }',
      qr/invalid number of arguments in "faas_route"/ ],
    [ 'location / { faas_read_timeout soon; faas_pass u; }',
      qr/"faas_read_timeout" directive invalid value/ ],
    [ 'faas_function x;',
      qr/"faas_function" directive is not allowed here/ ],
    [ 'location / { faas_status on; }',
      qr/invalid number of arguments in "faas_status"/ ],
    [ 'location / { faas_invocation later; faas_pass u; }',
      qr/invalid value "later" in \S+test\.conf/ ],
    [ 'location / { faas_invocation; faas_pass u; }',
      qr/invalid number of arguments in "faas_invocation"/ ],
    [ 'location / { faas_invocation_header async; faas_pass u; }',
      qr/invalid value "async" in "faas_invocation_header"/ ],
    # a location that would serve its root's files in the function's
    # place: nothing passes it to a runner
    [ 'location = /faas/status { faas_status; }',
      qr{"faas_status" without "faas_pass" in location "/faas/status" in(?x)
         \ \S+test\.conf:\d+} ],
    [ "location /fn/ {\n  faas_route ^/fn/(.+) \$1;\n}",
      qr{"faas_route" without "faas_pass" in location "/fn/" in \S+test\.conf:\d+$}m ],
    [ 'location = /f { faas_function users; faas_invocation async; }',
      qr/"faas_function" without "faas_pass" in location "\/f"/ ],
);

for my $b (@bad) {
    ($rc, $out) = nginx_t($b->[0]);
    isnt($rc, 0, "nginx -t fails: $b->[0]");
    like($out, $b->[1], "with the message") or diag($out);
    SKIP: {
        skip $b->[2], 1 if $b->[2];
        like($out, qr/test\.conf:\d+/, 'and file and line');
    }
}

# the line told is the directive's, not the end of the block
($rc, $out) = nginx_t("location /fn/ {\n  faas_route ^/fn/(.+) \$1;\n\n}");
my ($line) = $out =~ /without "faas_pass" .* in \S+test\.conf:(\d+)$/m;
like((split /\n/, FaasTest::read_file($t->prefix . '/test.conf'))[($line // 1) - 1],
     qr/^\s*faas_route /, 'the line of the directive without faas_pass');

done_testing;
