<?php
// SimpleSAMLphp configuration of one end-to-end IdP tenant (TEST ONLY). Static: every value that
// depends on the run (ports, paths, users, relying parties) comes from e2e.json beside this file,
// written by tests/e2e.rs. SimpleSAMLphp finds this directory through SIMPLESAMLPHP_CONFIG_DIR.
$e2e = json_decode(file_get_contents(__DIR__ . '/e2e.json'), true, 512, JSON_THROW_ON_ERROR);

$config = [
    'baseurlpath' => $e2e['base_url'],
    'certdir' => $e2e['cert_dir'],
    'loggingdir' => $e2e['log_dir'],
    'datadir' => $e2e['data_dir'],
    'tempdir' => $e2e['tmp_dir'],
    'metadatadir' => __DIR__ . '/metadata',
    'metadata.sources' => [['type' => 'flatfile', 'directory' => __DIR__ . '/metadata']],

    'technicalcontact_name' => 'fedrp e2e',
    'technicalcontact_email' => 'na@example.org',
    'timezone' => 'UTC',
    'secretsalt' => $e2e['secret_salt'],
    'auth.adminpassword' => $e2e['secret_salt'],
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'showerrors' => true,
    'errorreporting' => false,

    'logging.level' => SimpleSAML\Logger::INFO,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',

    'enable.saml20-idp' => true,
    'enable.adfs-idp' => true,
    'enable.shib13-idp' => false,
    'module.enable' => ['exampleauth' => true, 'adfs' => true, 'core' => true, 'saml' => true, 'admin' => true],

    // Relying parties may only be sent back to their own origins.
    'trusted.url.domains' => $e2e['trusted_domains'],
    'trusted.url.regex' => false,

    // Several tenants share 127.0.0.1 (cookies ignore ports): each has its own cookie names.
    'session.cookie.name' => $e2e['cookie_prefix'] . 'SessionID',
    'session.phpsession.cookiename' => $e2e['cookie_prefix'],
    'session.authtoken.cookiename' => $e2e['cookie_prefix'] . 'AuthToken',
    'session.cookie.path' => '/',
    'session.cookie.secure' => $e2e['cookie_secure'],
    'session.cookie.samesite' => $e2e['cookie_samesite'],
    'session.duration' => 8 * 60 * 60,
    'session.rememberme.enable' => false,
    'language.cookie.name' => $e2e['cookie_prefix'] . 'language',
    'store.type' => 'phpsession',

    'production' => false,
];
