//! Which event trigger a statement creates or changes (`CREATE`/`ALTER EVENT TRIGGER`,
//! `ALTER EVENT TRIGGER ... RENAME TO` / `OWNER TO`, `COMMENT ON EVENT TRIGGER`): where a
//! refusal for a live role that may not manage event triggers points.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::refs::sval;

pub(super) fn named(node: &NodeEnum) -> Option<String> {
    let event_trigger = ObjectType::ObjectEventTrigger as i32;
    let object_name = |object: &Option<Box<pg_query::protobuf::Node>>| {
        object.as_deref().and_then(sval).map(str::to_string)
    };
    match node {
        NodeEnum::CreateEventTrigStmt(s) => Some(s.trigname.clone()),
        NodeEnum::AlterEventTrigStmt(s) => Some(s.trigname.clone()),
        // A rename names the new trigger: the one the files declare.
        NodeEnum::RenameStmt(s) if s.rename_type == event_trigger => Some(s.newname.clone()),
        NodeEnum::AlterOwnerStmt(s) if s.object_type == event_trigger => object_name(&s.object),
        NodeEnum::CommentStmt(s) if s.objtype == event_trigger => object_name(&s.object),
        _ => None,
    }
}
