<?php
// The hosted WS-Federation IdP (the adfs module): SAML 1.1 tokens in a WS-Trust RSTR.
$e2e = json_decode(file_get_contents(dirname(__DIR__) . '/e2e.json'), true, 512, JSON_THROW_ON_ERROR);

$metadata[$e2e['adfs_entity_id']] = [
    'host' => '__DEFAULT__',
    'privatekey' => $e2e['key_file'],
    'certificate' => $e2e['cert_file'],
    'auth' => 'e2e-users',
    // Single logout notifies each relying party in a hidden iframe (wsignoutcleanup1.0).
    'logouttype' => 'iframe',
    'assertion.lifetime' => 3600,
];
