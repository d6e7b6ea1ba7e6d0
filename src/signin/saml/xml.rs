//! XML for SAML, in Exclusive XML Canonicalization (exc-c14n, without comments) on both sides:
//! `El` builds a tree the IdP emits and renders it already canonical (no declaration,
//! namespace declarations only where exc-c14n renders them, attributes in c14n order, no
//! self-closing tags, escaped text), so a digest over the rendering is a digest over exactly
//! the bytes sent; `canonicalize` renders a parsed `roxmltree` subtree the same way for the
//! verifier, optionally leaving one element (an enveloped signature) out.
//!
//! Owns escaping and canonical order. Must not know SAML's meaning of any element.

use std::collections::BTreeMap;

pub const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

/// Most namespace declarations (`xmlns` and `xmlns:*` attributes) a SAML Response may carry.
/// roxmltree resolves namespaces in time that grows with declarations times in-scope
/// namespaces squared: a few thousand declarations in a 70 KB document cost seconds of CPU
/// before anything is verified. Real IdPs declare a handful.
pub const RESPONSE_NAMESPACE_DECLARATIONS_MAX: usize = 64;

/// How many namespace declarations `xml` can hold (every `xmlns` it contains: an upper bound,
/// counted before parsing).
pub fn namespace_declarations(xml: &str) -> usize {
    xml.matches("xmlns").count()
}

/// Namespaces rendered by the output ancestors: prefix ("" for the default) -> URI.
type Scope = BTreeMap<String, String>;

/// An element to emit: `prefix:name`, its prefix's namespace URI, unprefixed attributes and
/// children.
#[derive(Debug, Clone)]
pub struct El {
    prefix: &'static str,
    uri: &'static str,
    name: &'static str,
    attrs: Vec<(&'static str, String)>,
    children: Vec<Child>,
}

#[derive(Debug, Clone)]
enum Child {
    El(El),
    Text(String),
}

impl El {
    pub fn new(prefix: &'static str, uri: &'static str, name: &'static str) -> El {
        El {
            prefix,
            uri,
            name,
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    pub fn attr(mut self, name: &'static str, value: impl Into<String>) -> El {
        self.attrs.push((name, value.into()));
        self
    }

    pub fn child(mut self, el: El) -> El {
        self.children.push(Child::El(el));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> El {
        self.children.push(Child::Text(text.into()));
        self
    }

    /// Inserts `el` as the child at `index` (or last).
    pub fn insert(&mut self, index: usize, el: El) {
        let at = index.min(self.children.len());
        self.children.insert(at, Child::El(el));
    }

    /// The exc-c14n rendering of this element as the apex of a document or subtree.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_in(&Scope::new(), &mut out);
        out
    }

    fn render_in(&self, scope: &Scope, out: &mut String) {
        out.push('<');
        push_qname(out, self.prefix, self.name);
        let mut inner = scope.clone();
        if scope.get(self.prefix).map(String::as_str) != Some(self.uri) {
            push_ns(out, self.prefix, self.uri);
            inner.insert(self.prefix.to_owned(), self.uri.to_owned());
        }
        let mut attrs: Vec<&(&str, String)> = self.attrs.iter().collect();
        attrs.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in attrs {
            push_attr(out, name, value);
        }
        out.push('>');
        for c in &self.children {
            match c {
                Child::El(e) => e.render_in(&inner, out),
                Child::Text(t) => escape_text(t, out),
            }
        }
        out.push_str("</");
        push_qname(out, self.prefix, self.name);
        out.push('>');
    }
}

fn push_qname(out: &mut String, prefix: &str, name: &str) {
    if !prefix.is_empty() {
        out.push_str(prefix);
        out.push(':');
    }
    out.push_str(name);
}

fn push_ns(out: &mut String, prefix: &str, uri: &str) {
    if prefix.is_empty() {
        out.push_str(" xmlns=\"");
    } else {
        out.push_str(" xmlns:");
        out.push_str(prefix);
        out.push_str("=\"");
    }
    escape_attr(uri, out);
    out.push('"');
}

fn push_attr(out: &mut String, qname: &str, value: &str) {
    out.push(' ');
    out.push_str(qname);
    out.push_str("=\"");
    escape_attr(value, out);
    out.push('"');
}

/// Text as c14n escapes it.
pub fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// An attribute value as c14n escapes it.
pub fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// The prefix an element or attribute was written with, from its qualified name in the input
/// (roxmltree keeps URIs, not prefixes).
fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(p, _)| p)
}

/// The qualified name an element was written with: the input after `<`, up to whitespace,
/// `>` or `/`.
fn element_qname<'a>(node: &roxmltree::Node<'_, 'a>) -> &'a str {
    let input = node.document().input_text();
    let raw = input.get(node.range()).unwrap_or("");
    let raw = raw.strip_prefix('<').unwrap_or(raw);
    let end = raw
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(raw.len());
    raw.get(..end).unwrap_or("")
}

/// The exc-c14n rendering of `node`'s subtree (`node` an element), leaving out the subtree of
/// `skip` (the enveloped-signature transform) and comments.
pub fn canonicalize(node: roxmltree::Node<'_, '_>, skip: Option<roxmltree::NodeId>) -> String {
    canonicalize_with(node, skip, &[])
}

/// `canonicalize` with an `InclusiveNamespaces` prefix list ("" for the default namespace):
/// those prefixes are rendered as inclusive c14n renders them, wherever they are in scope
/// and no output ancestor rendered them with the same URI, used or not.
pub fn canonicalize_with(
    node: roxmltree::Node<'_, '_>,
    skip: Option<roxmltree::NodeId>,
    inclusive: &[&str],
) -> String {
    let mut out = String::new();
    let mut scope = Scope::new();
    scope.insert(String::new(), String::new());
    canon_in(node, skip, inclusive, &scope, &mut out);
    out
}

fn canon_in(
    node: roxmltree::Node<'_, '_>,
    skip: Option<roxmltree::NodeId>,
    inclusive: &[&str],
    scope: &Scope,
    out: &mut String,
) {
    let qname = element_qname(&node);
    out.push('<');
    out.push_str(qname);
    let input = node.document().input_text();
    // (namespace URI, local name, qualified name, value), in c14n order.
    let mut attrs: Vec<(&str, &str, &str, &str)> = node
        .attributes()
        .map(|a| {
            let aq = input.get(a.range_qname()).unwrap_or(a.name());
            (a.namespace().unwrap_or(""), a.name(), aq, a.value())
        })
        .collect();
    let inner = render_used_namespaces(node, qname, &attrs, inclusive, scope, out);
    attrs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (_, _, aq, value) in attrs {
        push_attr(out, aq, value);
    }
    out.push('>');
    for c in node.children() {
        if Some(c.id()) == skip {
            continue;
        }
        if c.is_element() {
            canon_in(c, skip, inclusive, &inner, out);
        } else if c.is_text() {
            escape_text(c.text().unwrap_or(""), out);
        } else if let Some(pi) = c.pi() {
            out.push_str("<?");
            out.push_str(pi.target);
            if let Some(v) = pi.value.filter(|v| !v.is_empty()) {
                out.push(' ');
                out.push_str(v);
            }
            out.push_str("?>");
        }
    }
    out.push_str("</");
    out.push_str(qname);
    out.push('>');
}

/// Renders the namespaces the element and its attributes use that no output ancestor
/// rendered with the same URI (exc-c14n's rule), sorted by prefix; returns the new scope.
fn render_used_namespaces(
    node: roxmltree::Node<'_, '_>,
    qname: &str,
    attrs: &[(&str, &str, &str, &str)],
    inclusive: &[&str],
    scope: &Scope,
    out: &mut String,
) -> Scope {
    let mut inner = scope.clone();
    let mut used: Vec<(&str, bool)> = vec![(prefix_of(qname), true)];
    used.extend(
        attrs
            .iter()
            .filter(|a| a.2.contains(':'))
            .map(|a| (prefix_of(a.2), true)),
    );
    used.extend(inclusive.iter().map(|p| (*p, false)));
    used.sort_unstable();
    used.dedup_by(|b, a| {
        let same = a.0 == b.0;
        a.1 |= same && b.1;
        same
    });
    for (p, utilized) in used.into_iter().filter(|(p, _)| *p != "xml") {
        let found = node.lookup_namespace_uri(Some(p).filter(|p| !p.is_empty()));
        if !utilized && found.is_none() {
            continue;
        }
        let uri = found.unwrap_or("");
        if scope.get(p).map(String::as_str) != Some(uri) {
            push_ns(out, p, uri);
            inner.insert(p.to_owned(), uri.to_owned());
        }
    }
    inner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> El {
        El::new("samlp", SAMLP, "Response")
            .attr("Version", "2.0")
            .attr("ID", "_r1")
            .child(El::new("saml", SAML, "Issuer").text("a&b<c>\r"))
            .child(
                El::new("saml", SAML, "Assertion")
                    .attr("ID", "_a1")
                    .child(El::new("saml", SAML, "Issuer").text("x"))
                    .child(El::new("saml", SAML, "Attribute").attr("Name", "q\"\t\n<&")),
            )
    }

    #[test]
    fn renders_canonical_form() {
        let out = sample().render();
        assert_eq!(
            out,
            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_r1\" \
             Version=\"2.0\"><saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">\
             a&amp;b&lt;c&gt;&#xD;</saml:Issuer><saml:Assertion \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_a1\"><saml:Issuer>x\
             </saml:Issuer><saml:Attribute Name=\"q&quot;&#x9;&#xA;&lt;&amp;\"></saml:Attribute>\
             </saml:Assertion></samlp:Response>"
        );
    }

    #[test]
    fn parsed_rendering_canonicalizes_to_itself_and_subtrees_match() {
        let el = sample();
        let out = el.render();
        let doc = roxmltree::Document::parse(&out).unwrap();
        assert_eq!(canonicalize(doc.root_element(), None), out);
        let assertion = doc
            .descendants()
            .find(|n| n.has_tag_name((SAML, "Assertion")))
            .unwrap();
        let mut parts = el.children.iter().filter_map(|c| match c {
            Child::El(e) => Some(e.render()),
            Child::Text(_) => None,
        });
        parts.next();
        assert_eq!(canonicalize(assertion, None), parts.next().unwrap());
    }

    #[test]
    fn canonicalizes_other_spellings() {
        let cases = [
            // attribute order, self-closing tag, redundant and unused namespaces, comments
            (
                "<a:x xmlns:b=\"urn:b\" xmlns:a=\"urn:a\" z=\"1\" b:y=\"2\" y='3'><!-- c --><a:y xmlns:a=\"urn:a\"/></a:x>",
                "<a:x xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" y=\"3\" z=\"1\" b:y=\"2\"><a:y></a:y></a:x>",
            ),
            // default namespace and character references
            (
                "<x xmlns=\"urn:d\">&#65;&amp;<y>t</y></x>",
                "<x xmlns=\"urn:d\">A&amp;<y>t</y></x>",
            ),
        ];
        for (input, want) in cases {
            let doc = roxmltree::Document::parse(input).unwrap();
            assert_eq!(canonicalize(doc.root_element(), None), want, "{input}");
        }
    }

    #[test]
    fn inclusive_prefixes_render_where_in_scope_and_processing_instructions_stay() {
        let input = "<r xmlns:xs=\"urn:xs\" xmlns:u=\"urn:u\"><a:x xmlns:a=\"urn:a\">\
                     <a:y><?p d?><?q?></a:y></a:x></r>";
        let doc = roxmltree::Document::parse(input).unwrap();
        let x = doc
            .descendants()
            .find(|n| n.has_tag_name(("urn:a", "x")))
            .unwrap();
        let y = doc
            .descendants()
            .find(|n| n.has_tag_name(("urn:a", "y")))
            .unwrap();
        assert_eq!(
            canonicalize_with(x, None, &["xs", "nope"]),
            "<a:x xmlns:a=\"urn:a\" xmlns:xs=\"urn:xs\"><a:y><?p d?><?q?></a:y></a:x>"
        );
        assert_eq!(
            canonicalize_with(y, None, &["xs", "u"]),
            "<a:y xmlns:a=\"urn:a\" xmlns:u=\"urn:u\" xmlns:xs=\"urn:xs\"><?p d?><?q?></a:y>"
        );
        assert_eq!(
            canonicalize(y, None),
            "<a:y xmlns:a=\"urn:a\"><?p d?><?q?></a:y>"
        );
    }

    #[test]
    fn skips_the_enveloped_element() {
        let doc = roxmltree::Document::parse("<a><s>1</s><b>2</b></a>").unwrap();
        let s = doc.descendants().find(|n| n.has_tag_name("s")).unwrap();
        assert_eq!(
            canonicalize(doc.root_element(), Some(s.id())),
            "<a><b>2</b></a>"
        );
    }
}
