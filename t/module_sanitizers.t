#!/usr/bin/perl

# The module's tests again, against nginx itself built with ASan and
# UBSan from the upstream source of the packaged version (make test
# builds it: tools/nginx-build.sh), the module built in its tree. Each
# file must pass; the harness fails a file on any sanitizer report in
# nginx's output, as in the runner's log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $dir = "$FaasTest::BUILD/nginx-asan";

BAIL_OUT("no $dir/nginx: make test builds it (make nginx-builds)")
    unless -x "$dir/nginx" && -f "$dir/ngx_http_faas_module.so";

like(FaasTest::read_file("$dir/Makefile"), qr/^CFLAGS.*-fsanitize=address/m,
     'nginx and the module are built with ASan');

local $ENV{TEST_NGINX_BINARY} = "$dir/nginx";
local $ENV{TEST_FAAS_MODULE} = "$dir/ngx_http_faas_module.so";
local $ENV{ASAN_OPTIONS} = 'detect_leaks=0:detect_odr_violation=0';
local $ENV{TEST_FAAS_TIMEOUT} = 180;

# the files' own limits bound each; this one bounds them all
alarm 1200;

for my $file (qw(module_config module_route module_params module_upstream
                 module_differential module_accel module_meter_record
                 meter_variables meter_header_only meter_abandoned
                 module_tenant hostile_floods hostile_protocol module_fuzz))
{
    FaasTest::run_test_file($file, 'with nginx under ASan, UBSan');
}

done_testing;
