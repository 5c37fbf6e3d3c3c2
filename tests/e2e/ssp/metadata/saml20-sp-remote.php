<?php
// The SAML 2.0 service providers the IdP trusts: one entry per fedrp realm.
$e2e = json_decode(file_get_contents(dirname(__DIR__) . '/e2e.json'), true, 512, JSON_THROW_ON_ERROR);

foreach ($e2e['sps'] as $sp) {
    $metadata[$sp['entity_id']] = [
        'AssertionConsumerService' => [[
            'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
            'Location' => $sp['acs'],
            'index' => 0,
        ]],
        'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:unspecified',
        'simplesaml.nameidattribute' => $e2e['nameid_attribute'],
        'signature.algorithm' => $sp['signature_algorithm'],
        'saml20.sign.response' => true,
        'saml20.sign.assertion' => true,
        'validate.authnrequest' => false,
    ];
}
