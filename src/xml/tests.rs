use super::*;

fn p(s: &str) -> Result<Document, XmlError> {
    parse(s.as_bytes(), &ParseOptions::default())
}

fn code(s: &str) -> &'static str {
    match p(s) {
        Ok(_) => "ok",
        Err(e) => e.reason.code(),
    }
}

#[test]
fn builds_tree_with_namespaces() {
    let d = p(r#"<?xml version="1.0" encoding="utf-8"?>
<a:root xmlns:a="urn:a" xmlns="urn:d" x="1" a:y="2"><child>t&amp;&#x41;<![CDATA[<c>]]></child><!-- c --></a:root>"#)
    .unwrap();
    let r = d.root();
    assert!(d.is(r, "urn:a", "root"));
    assert_eq!(d.attr(r, "", "x"), Some("1"));
    assert_eq!(d.attr(r, "urn:a", "y"), Some("2"));
    let c = d.elements(r).next().unwrap();
    assert!(d.is(c, "urn:d", "child"));
    assert_eq!(d.simple_text(c).unwrap(), "t&A<c>");
    assert_eq!(d.lookup_ns(c, "a"), Some("urn:a"));
    assert_eq!(d.lookup_ns(c, ""), Some("urn:d"));
    assert_eq!(d.children(r).count(), 2);
}

#[test]
fn line_ends_and_attribute_normalisation() {
    let d = p("<r a=\"x\r\ny\tz&#10;\">l1\r\nl2\rl3</r>").unwrap();
    assert_eq!(d.attr(d.root(), "", "a"), Some("x y z\n"));
    assert_eq!(d.simple_text(d.root()).unwrap(), "l1\nl2\nl3");
    let keep = parse(
        "<r>a\r\nb</r>".as_bytes(),
        &ParseOptions {
            line_ends: LineEnds::KeepCrInText,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(keep.simple_text(keep.root()).unwrap(), "a\r\nb");
}

#[test]
fn bom_is_accepted() {
    assert_eq!(code("\u{FEFF}<?xml version=\"1.0\"?><r/>"), "ok");
}

#[test]
fn reason_codes() {
    let cases: &[(&str, &str)] = &[
        ("<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>", "xml.doctype"),
        ("<!DOCTYPE r SYSTEM 'x\"><!--'><r/>", "xml.doctype"),
        ("<?xml-stylesheet href=\"x\"?><r/>", "xml.pi"),
        ("<r><?pi x?></r>", "xml.pi"),
        (" <?xml version=\"1.0\"?><r/>", "xml.malformed"),
        ("<!-- c --><?xml version=\"1.0\"?><r/>", "xml.malformed"),
        ("<?xml version=\"1.1\"?><r/>", "xml.version"),
        (
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r/>",
            "xml.encoding",
        ),
        ("<r>&x;</r>", "xml.malformed"),
        ("<r>&#0;</r>", "xml.malformed"),
        ("<r>&#X41;</r>", "xml.malformed"),
        ("<r a=\"1\" a=\"2\"/>", "xml.malformed"),
        ("<r xmlns:p=\"urn:a\" xmlns:p=\"urn:b\"/>", "xml.malformed"),
        ("<r xmlns=\"urn:a\" xmlns=\"urn:b\"/>", "xml.malformed"),
        (
            "<r xmlns:p=\"urn:x\" xmlns:q=\"urn:x\" p:a=\"1\" q:a=\"2\"/>",
            "xml.malformed",
        ),
        ("<p:r/>", "xml.malformed"),
        ("<r p:a=\"1\"/>", "xml.malformed"),
        ("<r xmlns:p=\"\"/>", "xml.malformed"),
        ("<:r/>", "xml.malformed"),
        ("<r ::a=\"x\"/>", "xml.malformed"),
        ("<r :=\"v\"/>", "xml.malformed"),
        ("<r/>trailing", "xml.malformed"),
        ("<r/><s/>", "xml.root"),
        ("<r>]]></r>", "xml.malformed"),
        ("<r>\u{1}</r>", "xml.malformed"),
        ("<r a=\"<\"/>", "xml.malformed"),
        ("<r><a></b></r>", "xml.malformed"),
        ("<r>", "xml.malformed"),
        ("", "xml.malformed"),
        ("<r xmlns:e=\"1\"><e:x/></r>", "sig.c14n"),
        ("<r xmlns:e=\"urn:x \"><e:x/></r>", "xml.malformed"),
        ("<r xml:space=\"preserve \"/>", "xml.malformed"),
        ("<r xml:id=\"1a\"/>", "xml.malformed"),
        ("<r xml:lang=\"??\" xml:space=\"default\"/>", "ok"),
        ("<r xmlns=\"urn:\u{e9}\"/>", "xml.malformed"),
        ("<r><!-- a -- b --></r>", "xml.malformed"),
        ("<r a=\"1\"b=\"2\"/>", "xml.malformed"),
        ("<r a='1'b='2'/>", "xml.malformed"),
        ("<r a=\"1\"\tb = \"2\"\r\nc=\"3\" />", "ok"),
        ("<r xmlns:e=\"urn:x/a[1]\"/>", "xml.malformed"),
        ("<r xmlns:e=\"urn:a&amp;b\"/>", "xml.malformed"),
        // quick-xml's error position inside a multi-byte character (found by the fuzzer: a
        // panic slicing the text there).
        (
            "<trfe><!--:\u{feff}InsI6-5-7-a1e6/>e652a-897-b1c-=d9-b8--8--><AssR",
            "xml.malformed",
        ),
        ("<r xmlns=\"urn:a&#38;b\"/>", "xml.malformed"),
        ("<r xmlns=\"urn:a&#x26;b\" a=\"x&amp;y\"/>", "xml.malformed"),
        ("<r a=\"x&amp;y&#38;z\"/>", "ok"),
        (
            "<?xml version=\"1.0\"encoding=\"UTF-8\"?><r/>",
            "xml.malformed",
        ),
        (
            "<?xml version=\"1.0\" standalone=\"maybe\"?><r/>",
            "xml.malformed",
        ),
        ("<?xml encoding=\"UTF-8\"?><r/>", "xml.malformed"),
        (
            "<?xml version=\"1.0\" standalone=\"no\" encoding=\"UTF-8\"?><r/>",
            "xml.malformed",
        ),
        ("<?xml version=\"1.0\"\x0c?><r/>", "xml.malformed"),
        (
            "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><r/>",
            "ok",
        ),
        ("<?xml\r\n version = \"1.0\"?><r/>", "ok"),
    ];
    for (input, want) in cases {
        assert_eq!(code(input), *want, "{input:?}");
    }
}

#[test]
fn utf16_and_invalid_utf8() {
    assert_eq!(
        parse(b"\xFF\xFE<\x00r\x00/\x00>\x00", &ParseOptions::default())
            .unwrap_err()
            .reason
            .code(),
        "xml.encoding"
    );
    assert_eq!(
        parse(b"<r>\xC0\xAF</r>", &ParseOptions::default())
            .unwrap_err()
            .reason
            .code(),
        "xml.malformed"
    );
    assert_eq!(
        parse(b"<r>\xED\xA0\x80</r>", &ParseOptions::default())
            .unwrap_err()
            .reason
            .code(),
        "xml.malformed"
    );
}

#[test]
fn limits() {
    let deep = "<a>".repeat(65) + &"</a>".repeat(65);
    assert_eq!(code(&deep), "xml.too_deep");
    let ok = "<a>".repeat(64) + &"</a>".repeat(64);
    assert_eq!(code(&ok), "ok");
    let many_attrs = format!(
        "<r {}/>",
        (0..200)
            .map(|i| format!("a{i}=\"x\""))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert_eq!(code(&many_attrs), "xml.limits");
    let opts = ParseOptions {
        limits: Limits {
            max_nodes: 10,
            ..Default::default()
        },
        ..Default::default()
    };
    let wide = format!("<r>{}</r>", "<a/>".repeat(20));
    assert_eq!(
        parse(wide.as_bytes(), &opts).unwrap_err().reason.code(),
        "xml.limits"
    );
}

#[test]
fn root_range_covers_the_document_element() {
    let s = "<?xml version=\"1.0\"?>\n<r><a/></r>\n<!-- after -->";
    let d = p(s).unwrap();
    assert_eq!(&s[d.root_range()], "<r><a/></r>");
    let s = "<r/> ";
    let d = p(s).unwrap();
    assert_eq!(&s[d.root_range()], "<r/>");
}
