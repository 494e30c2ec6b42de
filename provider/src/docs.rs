//! Registry-layout documentation generated from the schema, so the attribute reference cannot drift from the code.
//! A test fails when the committed files are stale; `cargo xtask docs` (the same test with `UPDATE_DOCS=1`) rewrites
//! them.

use crate::resource::shutdown_asg::schema;
use tfplugin::{Attribute, Block, Schema, Type};

fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::List(inner) => format!("List of {}", type_name(inner)),
        Type::Set(inner) => format!("Set of {}", type_name(inner)),
        Type::Map(inner) => format!("Map of {}", type_name(inner)),
        Type::Object(_) => "Object".into(),
        Type::Dynamic => "Dynamic".into(),
    }
}

fn attribute_line(attribute: &Attribute, prefix: &str) -> String {
    let note = if attribute.replace_reason.is_some() { " Forces a new resource." } else { "" };
    format!("- `{prefix}{}` ({}) {}{note}\n", attribute.name, type_name(&attribute.ty), attribute.description)
}

fn section(out: &mut String, title: &str, block: &Block, prefix: &str, pick: fn(&Attribute) -> bool) {
    let attributes: Vec<&Attribute> = block.attributes.iter().filter(|a| pick(a)).collect();
    if attributes.is_empty() {
        return;
    }
    out.push_str(&format!("\n### {title}\n\n"));
    for attribute in attributes {
        out.push_str(&attribute_line(attribute, prefix));
    }
}

fn schema_sections(out: &mut String, schema: &Schema) {
    let block = &schema.block;
    section(out, "Required", block, "", |a| a.required);
    section(out, "Optional", block, "", |a| a.optional);
    block_sections(out, block, "");
    section(out, "Read-only", block, "", |a| a.computed && !a.optional);
}

/// Each nested block of `block`, then the blocks nested in it (`drain.nomad`), named by their path.
fn block_sections(out: &mut String, block: &Block, prefix: &str) {
    for nested in &block.blocks {
        let path = format!("{prefix}{}", nested.type_name);
        out.push_str(&format!(
            "\n### Block `{path}` ({})\n\n{}\n\n",
            if nested.min_items > 0 { "required, exactly one" } else { "optional" },
            nested.block.description
        ));
        for attribute in &nested.block.attributes {
            out.push_str(&attribute_line(attribute, &format!("{path}.")));
        }
        block_sections(out, &nested.block, &format!("{path}."));
    }
}

pub fn resource_doc() -> String {
    let schema = schema::schema();
    let mut out = String::new();
    out.push_str(
        "---\npage_title: \"graceful_shutdown_asg Resource - graceful\"\nsubcategory: \"\"\ndescription: |-\n  ",
    );
    out.push_str(&schema.block.description);
    out.push_str("\n---\n\n# graceful_shutdown_asg (Resource)\n\n");
    out.push_str(&schema.block.description);
    out.push_str("\n\n## Example Usage\n\n```terraform\n");
    out.push_str(include_str!("../../examples/resources/graceful_shutdown_asg/resource.tf"));
    out.push_str("```\n\n## Schema\n");
    schema_sections(&mut out, &schema);
    out.push_str("\n## Import\n\nImport by `name`:\n\n```shell\n");
    out.push_str(include_str!("../../examples/resources/graceful_shutdown_asg/import.sh"));
    out.push_str("```\n\nor with an `import` block:\n\n```terraform\nimport {\n  to = graceful_shutdown_asg.nomad_clients\n  id = \"nomad-clients\"\n}\n```\n");
    out
}

pub fn index_doc() -> String {
    let mut out = String::new();
    out.push_str("---\npage_title: \"graceful Provider\"\ndescription: |-\n  Drain Auto Scaling instances before they terminate.\n---\n\n");
    out.push_str("# graceful Provider\n\nOne resource, [`graceful_shutdown_asg`](resources/shutdown_asg.md), makes an Auto Scaling group \
drain each instance (stop taking work, finish what runs) before it terminates.\n\n## Example Usage\n\n```terraform\n");
    out.push_str(include_str!("../../examples/provider/provider.tf"));
    out.push_str("```\n\n## Schema\n");
    schema_sections(&mut out, &crate::config::schema());
    out
}

/// (path under the workspace, contents) of every generated doc file.
pub fn generated() -> Vec<(&'static str, String)> {
    vec![("docs/index.md", index_doc()), ("docs/resources/shutdown_asg.md", resource_doc())]
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_docs_are_up_to_date() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (path, contents) in super::generated() {
            if std::env::var_os("UPDATE_DOCS").is_some() {
                std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
                std::fs::write(root.join(path), &contents).unwrap();
            }
            let committed = std::fs::read_to_string(root.join(path)).unwrap_or_default();
            assert!(committed == contents, "{path} is stale: run `cargo xtask docs`");
        }
    }
}
