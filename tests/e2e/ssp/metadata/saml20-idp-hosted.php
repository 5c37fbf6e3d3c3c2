<?php
// The hosted SAML 2.0 IdP: SAML-P Responses over HTTP-POST.
$e2e = json_decode(file_get_contents(dirname(__DIR__) . '/e2e.json'), true, 512, JSON_THROW_ON_ERROR);

$metadata[$e2e['saml2_entity_id']] = [
    'host' => '__DEFAULT__',
    'privatekey' => $e2e['key_file'],
    'certificate' => $e2e['cert_file'],
    'auth' => 'e2e-users',
    'logouttype' => 'iframe',
    'assertion.lifetime' => 3600,
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
];
