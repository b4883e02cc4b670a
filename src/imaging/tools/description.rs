//! Midjourney and other downloads: the only prompt is a description, from the XMP
//! `dc:description` (its `rdf:Alt` item, `x-default` first), the EXIF
//! `ImageDescription`, or a PNG `Description` text. Midjourney writes the prompt and
//! its switches followed by " Job ID: …": the prompt is the text before it, the job
//! id a detail.

use super::ToolReading;
use super::sources::{Texts, XMP_KEY};
use crate::metadata::SourceTool;

/// The Dublin Core namespace of `dc:description`.
const DC: &str = "http://purl.org/dc/elements/1.1/";

/// The RDF namespace of `rdf:li`.
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// The namespace of `xml:lang`.
const XML: &str = "http://www.w3.org/XML/1998/namespace";

/// What precedes Midjourney's job id in its descriptions.
const JOB_ID_MARKER: &str = " Job ID:";

/// The description reading of `texts`, when any description is present.
pub(super) fn read(texts: &Texts) -> Option<ToolReading> {
    let mut reading = ToolReading::of(SourceTool::Description);
    let from_xmp = match texts.get(XMP_KEY).map(xmp_description) {
        Some(Ok(description)) => description,
        Some(Err(note)) => {
            reading.notes.push(note);
            None
        }
        None => None,
    };
    let description = from_xmp
        .or_else(|| texts.get("ImageDescription").map(str::to_owned))
        .or_else(|| texts.get("Description").map(str::to_owned))
        .filter(|text| !text.trim().is_empty())?;
    match description.split_once(JOB_ID_MARKER) {
        Some((prompt, job)) => {
            reading.prompt = prompt.trim().to_owned();
            reading.detail("Job ID", job.trim());
        }
        None => reading.prompt = description.trim().to_owned(),
    }
    Some(reading)
}

/// The `dc:description` of an XMP packet: the `x-default` item of its `rdf:Alt` (else
/// the first item, else its own text), or a `dc:description` attribute. A note when the
/// packet is not well-formed XML.
fn xmp_description(packet: &str) -> Result<Option<String>, String> {
    let packet = packet.trim_matches(|c: char| c == '\0' || c == '\u{feff}' || c.is_whitespace());
    let document =
        roxmltree::Document::parse(packet).map_err(|err| format!("The XMP packet is not well-formed XML ({err})."))?;
    for element in document
        .descendants()
        .filter(|node| node.has_tag_name((DC, "description")))
    {
        let items: Vec<roxmltree::Node<'_, '_>> = element
            .descendants()
            .filter(|node| node.has_tag_name((RDF, "li")))
            .collect();
        let chosen = items
            .iter()
            .find(|item| item.attribute((XML, "lang")) == Some("x-default"))
            .or_else(|| items.first());
        let text = match chosen {
            Some(item) => item.text(),
            None => element.text(),
        };
        if let Some(text) = text.filter(|text| !text.trim().is_empty()) {
            return Ok(Some(text.to_owned()));
        }
    }
    Ok(document
        .descendants()
        .find_map(|node| node.attribute((DC, "description")))
        .map(str::to_owned))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::read_tool_metadata;
    use super::super::test_files::{exif_ascii, jpeg_with_exif, jpeg_with_xmp, png_with_texts};
    use super::*;

    /// The XMP packet of a Midjourney download (as its site writes it).
    fn midjourney_xmp(description: &str) -> String {
        format!(
            r#"<?xpacket begin="﻿" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{description}</rdf:li></rdf:Alt></dc:description>
   <Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#
        )
    }

    #[test]
    fn a_midjourney_jpeg_reads_its_prompt_and_job_id() {
        let described =
            "a lighthouse in a storm, oil painting --ar 16:9 --v 6.1 Job ID: 8f2c3d4e-1a2b-4c5d-9e8f-0a1b2c3d4e5f";
        let jpeg = jpeg_with_xmp(&jpeg_with_exif(&[]), &midjourney_xmp(described));
        let reading = read_tool_metadata(&jpeg);
        assert_eq!(reading.tool, Some(SourceTool::Description));
        assert_eq!(
            reading.prompt,
            "a lighthouse in a storm, oil painting --ar 16:9 --v 6.1"
        );
        assert_eq!(
            reading.details,
            [("Job ID".to_owned(), "8f2c3d4e-1a2b-4c5d-9e8f-0a1b2c3d4e5f".to_owned())]
        );
        assert_eq!((reading.negative_prompt.as_str(), reading.seed), ("", None));
    }

    #[test]
    fn exif_image_description_and_png_description_read() {
        let jpeg = jpeg_with_exif(&[exif_ascii(exif::Tag::ImageDescription, "一只猫在月球上")]);
        let reading = read_tool_metadata(&jpeg);
        assert_eq!(
            (reading.tool, reading.prompt.as_str()),
            (Some(SourceTool::Description), "一只猫在月球上")
        );
        let png = png_with_texts(&[("Description", "a cat on the moon --v 6 Job ID: abc")]);
        assert_eq!(read_tool_metadata(&png).prompt, "a cat on the moon --v 6");
    }

    #[test]
    fn xmp_variants_and_broken_xmp() {
        let attribute = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
            <rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:description="as attribute"/></rdf:RDF></x:xmpmeta>"#;
        assert_eq!(xmp_description(attribute).unwrap().as_deref(), Some("as attribute"));
        let languages = midjourney_xmp("x").replace(
            r#"<rdf:li xml:lang="x-default">x</rdf:li>"#,
            r#"<rdf:li xml:lang="de">Katze</rdf:li><rdf:li xml:lang="x-default">cat &amp; dog</rdf:li>"#,
        );
        assert_eq!(xmp_description(&languages).unwrap().as_deref(), Some("cat & dog"));
        assert_eq!(
            xmp_description("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>").unwrap(),
            None
        );
        let broken = &midjourney_xmp("a cat")[..200];
        assert!(
            xmp_description(broken)
                .unwrap_err()
                .starts_with("The XMP packet is not well-formed")
        );
        // A broken packet beside an EXIF description: the description, with a note.
        let jpeg = jpeg_with_xmp(
            &jpeg_with_exif(&[exif_ascii(exif::Tag::ImageDescription, "a dog")]),
            broken,
        );
        let reading = read_tool_metadata(&jpeg);
        assert_eq!((reading.prompt.as_str(), reading.notes.len()), ("a dog", 1));
        // Entities from a DTD are refused, not expanded.
        let laughs = r#"<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>"#;
        assert!(xmp_description(laughs).is_err());
    }
}
