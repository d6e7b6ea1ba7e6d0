#!/usr/bin/env python3
"""Drives cloudsso's SAML operations through the unmodified official SDK
(`alibabacloud_cloudsso20210515`): SetExternalSAMLIdentityProvider (metadata upload, manual
fields, the SSO switch), GetExternalSAMLIdentityProvider, ClearExternalSAMLIdentityProvider,
AddExternalSAMLIdPCertificate, RemoveExternalSAMLIdPCertificate,
ListExternalSAMLIdPCertificates, GetDirectorySAMLServiceProviderInfo, and GetDirectoryStatistics'
SSOEnabled, every answer checked as the SDK's models parse it. Test certificates are made with
`cryptography` (installed with the SDK). Reports every failed check, exits 1 if any.

Usage: sdk_saml_check.py <data dir of a running `cloudsso serve`>
"""

import base64
import datetime
import json
import sys
from pathlib import Path

from alibabacloud_cloudsso20210515 import models as sso
from alibabacloud_cloudsso20210515.client import Client as SsoClient
from alibabacloud_tea_openapi import models as open_api_models
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

failures = []
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"


def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else f": {detail}"))
    if not cond:
        failures.append(what)


def error_code(call):
    try:
        call()
    except Exception as e:
        return getattr(e, "code", repr(e))
    return None


def certificate(cn, key=None):
    """A self-signed certificate (PEM) for `key` (default: a new RSA 2048 key)."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Encoded most general first; answers name it the RFC 4514 way, most specific first.
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SDK IdP"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(4242)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def der_b64(pem):
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


def metadata(certs, redirect=True):
    keys = "".join(
        f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        f"{der_b64(c)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        for c in certs)
    services = ('<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
                'Location="https://idp.example/sso/post"/>')
    if redirect:
        services += ('<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:'
                     'HTTP-Redirect" Location="https://idp.example/sso/redirect"/>')
    xml = (f'<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="https://idp.example/e">'
           f'<md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration='
           f'"urn:oasis:names:tc:SAML:2.0:protocol">{keys}{services}</md:IDPSSODescriptor>'
           f"</md:EntityDescriptor>")
    return base64.b64encode(xml.encode()).decode()


def get(c, d):
    return c.get_external_samlidentity_provider(
        sso.GetExternalSAMLIdentityProviderRequest(directory_id=d)).body.samlidentity_provider_configuration


def listed(c, d):
    return c.list_external_samlid_pcertificates(
        sso.ListExternalSAMLIdPCertificatesRequest(directory_id=d)).body


def set_idp(c, **kw):
    return c.set_external_samlidentity_provider(
        sso.SetExternalSAMLIdentityProviderRequest(**kw)).body.samlidentity_provider_configuration


def sso_enabled(c, d):
    return c.get_directory_statistics(
        sso.GetDirectoryStatisticsRequest(directory_id=d)).body.directory_statistics.ssoenabled


def metadata_upload(c, d, a, b):
    g = get(c, d)
    check("Get before: SSOStatus Disabled, nothing configured",
          (g.ssostatus, g.entity_id, g.certificate_ids or []) == ("Disabled", None, []),
          (g.ssostatus, g.entity_id, g.certificate_ids))
    encoded = metadata([a, b])
    s = set_idp(c, directory_id=d, encoded_metadata_document=encoded)
    got = (s.directory_id, s.entity_id, s.login_url, s.binding_type, s.want_request_signed,
           s.ssostatus, s.encoded_metadata_document == encoded)
    check("Set metadata: configuration", got == (d, "https://idp.example/e",
          "https://idp.example/sso/redirect", "Redirect", True, "Disabled", True), got)
    ids = s.certificate_ids or []
    check("Set metadata: two idp-c- certificate ids",
          len(ids) == 2 and all(i.startswith("idp-c-") for i in ids), ids)
    check("Set metadata: CreateTime/UpdateTime",
          all(t and t.endswith("Z") for t in (s.create_time, s.update_time)),
          (s.create_time, s.update_time))
    g = get(c, d)
    check("Get equals Set", g.to_map() == s.to_map(), (g.to_map(), s.to_map()))
    post = set_idp(c, directory_id=d, encoded_metadata_document=encoded, binding_type="Post")
    check("Set metadata BindingType=Post", (post.binding_type, post.login_url) ==
          ("Post", "https://idp.example/sso/post"), (post.binding_type, post.login_url))
    check("Same certificates keep their ids", post.certificate_ids == ids,
          (post.certificate_ids, ids))
    lst = listed(c, d)
    check("List: TotalCounts 2", lst.total_counts == 2, lst.total_counts)
    first = (lst.samlid_pcertificates or [None])[0]
    got = (first.certificate_id, first.subject, first.issuer, first.serial_number,
           first.signature_algorithm, first.version, first.x_509certificate == der_b64(a))
    check("List: first certificate", got == (ids[0], "CN=idp-a,O=SDK IdP", "CN=idp-a,O=SDK IdP",
          "4242", "SHA256withRSA", 3, True), got)
    check("List: PublicKey, NotBefore, NotAfter",
          (first.public_key or "").startswith("MIIBIjAN") and first.not_before.endswith("Z")
          and first.not_after.endswith("Z"), (first.public_key, first.not_before, first.not_after))
    code = error_code(lambda: set_idp(c, directory_id=d,
                                      encoded_metadata_document=metadata([a, b, certificate("x")])))
    check("Set metadata with 3 certificates refused",
          code == "InvalidParameter.EncodedMetadataDocument", code)
    code = error_code(lambda: set_idp(c, directory_id=d, encoded_metadata_document="not base64!"))
    check("Set metadata not base64 refused", code == "InvalidParameter.EncodedMetadataDocument", code)
    return ids


def service_provider(c, d):
    sp = c.get_directory_samlservice_provider_info(
        sso.GetDirectorySAMLServiceProviderInfoRequest(directory_id=d)).body.samlservice_provider
    got = (sp.directory_id, sp.authn_sign_algo, sp.certificate_type, sp.support_encrypted_assertion)
    check("GetDirectorySAMLServiceProviderInfo fixed fields",
          got == (d, "rsa-sha256", "self-signed", False), got)
    check("SP EntityId and AcsUrl", (sp.entity_id or "").endswith(f"/{d}/saml/metadata")
          and (sp.acs_url or "").endswith(f"/{d}/saml/acs"), (sp.entity_id, sp.acs_url))
    xml = base64.b64decode(sp.encoded_metadata_document or "").decode()
    check("SP metadata names the entity, the ACS and signed requests",
          f'entityID="{sp.entity_id}"' in xml and f'Location="{sp.acs_url}"' in xml
          and 'AuthnRequestsSigned="true"' in xml, xml[:300])


def manual_and_switch(c, d, ids, b):
    s = set_idp(c, directory_id=d, login_url="https://idp.example/manual", want_request_signed=False)
    got = (s.entity_id, s.login_url, s.want_request_signed, s.certificate_ids)
    check("Manual LoginUrl: the rest kept",
          got == ("https://idp.example/e", "https://idp.example/manual", False, ids), got)
    s = set_idp(c, directory_id=d, ssostatus="Enabled")
    check("SSOStatus Enabled", s.ssostatus == "Enabled", s.ssostatus)
    check("GetDirectoryStatistics SSOEnabled", sso_enabled(c, d) is True, sso_enabled(c, d))
    code = error_code(lambda: c.clear_external_samlidentity_provider(
        sso.ClearExternalSAMLIdentityProviderRequest(directory_id=d)))
    check("Clear refused while SSO is enabled", code == "OperationConflict.SSOLogonEnabled", code)
    c.remove_external_samlid_pcertificate(
        sso.RemoveExternalSAMLIdPCertificateRequest(directory_id=d, certificate_id=ids[0]))
    lst = listed(c, d)
    check("RemoveExternalSAMLIdPCertificate", (lst.total_counts,
          [x.certificate_id for x in lst.samlid_pcertificates]) == (1, [ids[1]]), lst.to_map())
    code = error_code(lambda: c.remove_external_samlid_pcertificate(
        sso.RemoveExternalSAMLIdPCertificateRequest(directory_id=d, certificate_id=ids[1])))
    check("Removing the last certificate refused under SSO",
          code == "OperationConflict.SSOLogonEnabled", code)
    added = c.add_external_samlid_pcertificate(sso.AddExternalSAMLIdPCertificateRequest(
        directory_id=d, x_509certificate=certificate("idp-c"))).body.certificate_id
    check("AddExternalSAMLIdPCertificate", (added or "").startswith("idp-c-"), added)
    code = error_code(lambda: c.add_external_samlid_pcertificate(
        sso.AddExternalSAMLIdPCertificateRequest(directory_id=d, x_509certificate=certificate("d"))))
    check("A third certificate refused", code == "QuotaExceeded.ExternalSAMLIdPCertificate", code)
    ec_pem = certificate("ec", ec.generate_private_key(ec.SECP256R1()))
    code = error_code(lambda: c.add_external_samlid_pcertificate(
        sso.AddExternalSAMLIdPCertificateRequest(directory_id=d, x_509certificate=ec_pem)))
    check("An EC certificate refused", code == "InvalidParameter.X509Certificate", code)
    s = set_idp(c, directory_id=d, x_509certificate=b)
    check("X509Certificate replaces all certificates", s.certificate_ids == [ids[1]],
          s.certificate_ids)
    s = set_idp(c, directory_id=d, ssostatus="Disabled")
    check("SSOStatus Disabled", (s.ssostatus, sso_enabled(c, d)) == ("Disabled", False),
          (s.ssostatus, sso_enabled(c, d)))
    c.clear_external_samlidentity_provider(
        sso.ClearExternalSAMLIdentityProviderRequest(directory_id=d))
    g = get(c, d)
    check("Clear", (g.ssostatus, g.entity_id, g.certificate_ids or []) == ("Disabled", None, []),
          g.to_map())
    set_idp(c, directory_id=d, entity_id="urn:example:partial")
    code = error_code(lambda: set_idp(c, directory_id=d, ssostatus="Enabled"))
    check("SSO over an incomplete configuration refused", code == "InvalidParameter.SSOStatus", code)
    c.clear_external_samlidentity_provider(
        sso.ClearExternalSAMLIdentityProviderRequest(directory_id=d))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    boot = json.loads((Path(sys.argv[1]) / "bootstrap.json").read_text())
    c = SsoClient(open_api_models.Config(
        access_key_id=boot["admin_access_key_id"],
        access_key_secret=boot["admin_access_key_secret"],
        endpoint=boot["api_endpoint"].split("://", 1)[-1].rstrip("/"),
        protocol="http",
        region_id="cn-shanghai",
    ))
    d = boot["directory_id"]
    a, b = certificate("idp-a"), certificate("idp-b")
    ids = metadata_upload(c, d, a, b)
    service_provider(c, d)
    manual_and_switch(c, d, ids, b)
    if failures:
        print(f"{len(failures)} SAML check(s) failed")
        return 1
    print("SAML: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
