//! A normalised picture of a database's schema read straight from the system catalogs, the
//! convergence oracle for servers newer than the installed `pg_dump` (which refuses them).
//!
//! It is written independently of zdm's own catalog module so that it can catch that
//! module's mistakes: every definition comes from PostgreSQL's own functions
//! (`pg_get_indexdef`, `pg_get_constraintdef`, `pg_get_viewdef`, `pg_get_functiondef`,
//! `pg_get_triggerdef`, `format_type`, `pg_get_expr`, ...), read with `search_path = ''` so
//! that every name comes out schema-qualified, as `pg_dump` has it. One line per object (or
//! per column), sorted; zdm's own schema, the system schemas and extension members are left
//! out. Like the normalised `pg_dump`, it ignores the order of a table's columns (added
//! columns go to the end) but keeps the order of enum values and of composite type fields.
//! It reads PostgreSQL 15 and newer (pg_dump covers the older majors).

use tokio_postgres::Client;

/// Schemas whose objects are pictured, as a predicate over `pg_namespace` aliased `n`.
const IN_SCOPE: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'zdm') \
     AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'";

/// Predicate: the object `oid` of catalog `catalog` is not part of an extension.
fn not_extension_member(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = '{catalog}'::regclass \
         AND e.objid = {oid} AND e.deptype = 'e')"
    )
}

/// An ACL as sorted text, with a NULL (never granted) spelt as the default it stands for, so
/// that a GRANT followed by its REVOKE reads the same as nothing at all (pg_dump agrees).
fn acl(acl: &str, kind: &str, owner: &str) -> String {
    format!(
        "coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) \
         FROM unnest(coalesce({acl}, acldefault(({kind})::\"char\", {owner}))) x), '')"
    )
}

/// A sorted, comma-separated list of text values from a subquery producing column `x`.
fn sorted(subquery: &str) -> String {
    format!("coalesce((SELECT string_agg(x, ',' ORDER BY x) FROM ({subquery}) s), '')")
}

fn schemas() -> String {
    format!(
        "SELECT format('schema %I owner=%s acl=%s', n.nspname, pg_get_userbyid(n.nspowner), {})
           FROM pg_namespace n WHERE {IN_SCOPE} AND {}",
        acl("n.nspacl", "'n'", "n.nspowner"),
        not_extension_member("pg_namespace", "n.oid"),
    )
}

fn extensions() -> &'static str {
    "SELECT format('extension %I schema=%I', e.extname, n.nspname)
       FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
}

/// Tables, views, sequences, composite types and foreign tables: what the relation itself
/// carries (its columns, constraints and indexes have their own lines).
fn relations() -> String {
    let parents = "SELECT format('%I.%I', pn.nspname, p.relname) || '#' || i.inhseqno AS x \
                   FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent \
                   JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid";
    format!(
        "SELECT format('relation %I.%I kind=%s persistence=%s owner=%s am=%s options=%s \
                        toast_options=%s replica_identity=%s rls=%s,%s of=%s partition_key=%s \
                        bound=%s inherits=%s acl=%s',
                n.nspname, c.relname, c.relkind, c.relpersistence, pg_get_userbyid(c.relowner),
                (SELECT amname FROM pg_am WHERE oid = c.relam), c.reloptions,
                (SELECT t.reloptions FROM pg_class t WHERE t.oid = c.reltoastrelid),
                c.relreplident, c.relrowsecurity, c.relforcerowsecurity,
                CASE WHEN c.reloftype <> 0 THEN format_type(c.reloftype, NULL) END,
                CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
                pg_get_expr(c.relpartbound, c.oid), {}, {})
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c', 'f') AND {IN_SCOPE} AND {}",
        sorted(parents),
        acl(
            "c.relacl",
            "CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END",
            "c.relowner"
        ),
        not_extension_member("pg_class", "c.oid"),
    )
}

/// One line per column: type, NOT NULL, default or generation expression, identity,
/// collation and storage where they differ from the type's, statistics target,
/// compression, options and column privileges. Composite type fields keep their position.
fn columns() -> String {
    format!(
        "SELECT format('column %I.%I.%I %s%s%s%s%s%s%s%s%s%s%s%s',
                n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                CASE WHEN c.relkind = 'c' THEN ' position=' || (SELECT count(*) FROM pg_attribute b
                     WHERE b.attrelid = a.attrelid AND b.attnum > 0 AND NOT b.attisdropped
                       AND b.attnum <= a.attnum) END,
                CASE WHEN a.attnotnull THEN ' not null' END,
                CASE WHEN a.attgenerated <> '' THEN
                          format(' generated=%s (%s)', a.attgenerated, pg_get_expr(d.adbin, d.adrelid))
                     WHEN d.adbin IS NOT NULL THEN ' default ' || pg_get_expr(d.adbin, d.adrelid) END,
                CASE a.attidentity WHEN 'a' THEN ' identity always'
                                   WHEN 'd' THEN ' identity by default' END,
                CASE WHEN a.attcollation <> t.typcollation THEN
                          (SELECT format(' collate %I.%I', cn.nspname, co.collname)
                             FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                            WHERE co.oid = a.attcollation) END,
                CASE WHEN a.attstorage <> t.typstorage THEN ' storage=' || a.attstorage::text END,
                CASE WHEN coalesce(a.attstattarget, -1) >= 0 THEN ' statistics=' || a.attstattarget::text END,
                CASE WHEN a.attcompression::text <> '' THEN ' compression=' || a.attcompression::text END,
                CASE WHEN a.attoptions IS NOT NULL THEN ' options=' || a.attoptions::text END,
                CASE WHEN a.attfdwoptions IS NOT NULL THEN ' fdw_options=' || a.attfdwoptions::text END,
                CASE WHEN a.attacl IS NOT NULL THEN ' acl=' || {} END)
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attnum > 0 AND NOT a.attisdropped
            AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f') AND {IN_SCOPE} AND {}",
        acl("a.attacl", "'c'", "c.relowner"),
        not_extension_member("pg_class", "c.oid"),
    )
}

/// Constraints of tables and domains (NOT NULL constraints too on PostgreSQL 18), by name,
/// with `pg_get_constraintdef`'s text (which says NOT VALID, DEFERRABLE, NO INHERIT). The
/// copies PostgreSQL makes on partitions for a parent's foreign key or key are left out, as
/// pg_dump leaves them out: they follow from the parent's.
fn constraints() -> &'static str {
    "SELECT format('constraint %s %I: %s%s',
            CASE WHEN con.conrelid <> 0
                 THEN (SELECT format('%I.%I', rn.nspname, r.relname) FROM pg_class r
                         JOIN pg_namespace rn ON rn.oid = r.relnamespace WHERE r.oid = con.conrelid)
                 ELSE (SELECT format('domain %I.%I', tn.nspname, t.typname) FROM pg_type t
                         JOIN pg_namespace tn ON tn.oid = t.typnamespace WHERE t.oid = con.contypid)
            END,
            con.conname, pg_get_constraintdef(con.oid),
            CASE WHEN NOT con.conislocal THEN ' inherited' END)
       FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
      WHERE con.conparentid = 0 AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'zdm')
        AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'"
}

/// Indexes by `pg_get_indexdef` (name, table, method, keys, INCLUDE, WHERE, options), and what
/// it does not say: an INVALID index (a failed concurrent build left behind), CLUSTER ON,
/// the replica identity index, the partitioned index it is attached to.
fn indexes() -> String {
    let parent = "SELECT format('%I.%I', pn.nspname, p.relname) AS x FROM pg_inherits h \
                  JOIN pg_class p ON p.oid = h.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace \
                  WHERE h.inhrelid = i.indexrelid";
    format!(
        "SELECT format('index %I.%I: %s%s%s%s%s', n.nspname, ic.relname, pg_get_indexdef(i.indexrelid),
                CASE WHEN NOT i.indisvalid THEN ' INVALID' END,
                CASE WHEN i.indisclustered THEN ' clustered' END,
                CASE WHEN i.indisreplident THEN ' replica identity' END,
                CASE WHEN EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
                     THEN ' attached to ' || {} END)
           FROM pg_index i
           JOIN pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_namespace n ON n.oid = ic.relnamespace
          WHERE {IN_SCOPE} AND {}",
        sorted(parent),
        not_extension_member("pg_class", "i.indrelid"),
    )
}

/// Sequences' options, and the column each belongs to (serial `a`uto or `i`dentity).
fn sequences() -> &'static str {
    "SELECT format('sequence %I.%I type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s owned_by=%s',
            n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
            s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
            (SELECT format('%I.%I.%I(%s)', tn.nspname, t.relname, a.attname, d.deptype)
               FROM pg_depend d
               JOIN pg_class t ON t.oid = d.refobjid
               JOIN pg_namespace tn ON tn.oid = t.relnamespace
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
       FROM pg_sequence s
       JOIN pg_class c ON c.oid = s.seqrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'zdm')
        AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'"
}

fn views() -> String {
    format!(
        "SELECT format('view %I.%I: %s', n.nspname, c.relname, pg_get_viewdef(c.oid))
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('v', 'm') AND {IN_SCOPE} AND {}",
        not_extension_member("pg_class", "c.oid"),
    )
}

/// Functions and procedures by `pg_get_functiondef` (signature, result, language, volatility,
/// strictness, security, SET clauses, cost, body), plus owner and privileges.
fn routines() -> String {
    format!(
        "SELECT format('routine %s owner=%s acl=%s: %s', p.oid::regprocedure,
                pg_get_userbyid(p.proowner), {}, pg_get_functiondef(p.oid))
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE p.prokind <> 'a' AND {IN_SCOPE} AND {}",
        acl("p.proacl", "'f'", "p.proowner"),
        not_extension_member("pg_proc", "p.oid"),
    )
}

/// Aggregates (which `pg_get_functiondef` refuses): their support functions and states.
fn aggregates() -> String {
    format!(
        "SELECT format('aggregate %s owner=%s acl=%s parallel=%s: kind=%s direct=%s trans=%s \
                        final=%s(%s,%s) combine=%s serial=%s deserial=%s mtrans=%s minv=%s \
                        mfinal=%s(%s,%s) sortop=%s stype=%s sspace=%s mstype=%s mspace=%s \
                        init=%s minit=%s',
                p.oid::regprocedure, pg_get_userbyid(p.proowner), {}, p.proparallel,
                a.aggkind, a.aggnumdirectargs, a.aggtransfn, a.aggfinalfn, a.aggfinalextra,
                a.aggfinalmodify, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, a.aggmtransfn,
                a.aggminvtransfn, a.aggmfinalfn, a.aggmfinalextra, a.aggmfinalmodify,
                a.aggsortop::regoperator, format_type(a.aggtranstype, NULL), a.aggtransspace,
                format_type(a.aggmtranstype, NULL), a.aggmtransspace, a.agginitval, a.aggminitval)
           FROM pg_aggregate a
           JOIN pg_proc p ON p.oid = a.aggfnoid
           JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE {IN_SCOPE} AND {}",
        acl("p.proacl", "'f'", "p.proowner"),
        not_extension_member("pg_proc", "p.oid"),
    )
}

/// User triggers (not the internal ones behind foreign keys), with their enabled state.
fn triggers() -> String {
    format!(
        "SELECT format('trigger %I.%I.%I enabled=%s: %s', n.nspname, c.relname, t.tgname,
                t.tgenabled, pg_get_triggerdef(t.oid))
           FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE NOT t.tgisinternal AND {IN_SCOPE} AND {}",
        not_extension_member("pg_class", "c.oid"),
    )
}

fn policies() -> String {
    let roles = "SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END AS x \
                 FROM unnest(p.polroles) r";
    format!(
        "SELECT format('policy %I.%I.%I permissive=%s command=%s roles=%s using=%s check=%s',
                n.nspname, c.relname, p.polname, p.polpermissive, p.polcmd, {},
                pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
           FROM pg_policy p
           JOIN pg_class c ON c.oid = p.polrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE {IN_SCOPE}",
        sorted(roles),
    )
}

fn rules() -> &'static str {
    "SELECT format('rule %I.%I.%I enabled=%s: %s', n.nspname, c.relname, r.rulename,
            r.ev_enabled, pg_get_ruledef(r.oid))
       FROM pg_rewrite r
       JOIN pg_class c ON c.oid = r.ev_class
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE r.rulename <> '_RETURN' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'zdm')
        AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'"
}

/// Types made by CREATE TYPE / CREATE DOMAIN (not the row types of tables, nor the array and
/// multirange types PostgreSQL makes alongside): enums with their values in order, domains
/// with their base type, default and NOT NULL (their CHECKs are constraints), ranges with
/// their subtype and support, base types with their I/O functions.
fn types() -> String {
    format!(
        "SELECT format('type %I.%I kind=%s owner=%s acl=%s%s', n.nspname, t.typname, t.typtype,
                pg_get_userbyid(t.typowner), {},
                CASE t.typtype
                  WHEN 'e' THEN ' values=' || (SELECT string_agg(quote_literal(e.enumlabel), ','
                                                      ORDER BY e.enumsortorder)
                                                 FROM pg_enum e WHERE e.enumtypid = t.oid)
                  WHEN 'd' THEN format(' base=%s not_null=%s default=%s collation=%s',
                                       format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                                       t.typdefault, t.typcollation::regcollation)
                  WHEN 'r' THEN (SELECT format(' subtype=%s collation=%s opclass=%s canonical=%s \
                                                 subdiff=%s multirange=%s',
                                               format_type(r.rngsubtype, NULL), r.rngcollation::regcollation,
                                               (SELECT format('%I.%I', ocn.nspname, oc.opcname)
                                                  FROM pg_opclass oc JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
                                                 WHERE oc.oid = r.rngsubopc),
                                               r.rngcanonical, r.rngsubdiff,
                                               format_type(r.rngmultitypid, NULL))
                                  FROM pg_range r WHERE r.rngtypid = t.oid)
                  WHEN 'b' THEN format(' input=%s output=%s receive=%s send=%s typmod=%s,%s \
                                         analyze=%s length=%s byval=%s align=%s storage=%s \
                                         category=%s preferred=%s delimiter=%s element=%s',
                                       t.typinput, t.typoutput, t.typreceive, t.typsend,
                                       t.typmodin, t.typmodout, t.typanalyze, t.typlen,
                                       t.typbyval, t.typalign, t.typstorage, t.typcategory,
                                       t.typispreferred, t.typdelim,
                                       CASE WHEN t.typelem <> 0 THEN format_type(t.typelem, NULL) END)
                END)
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE t.typtype <> 'm'
            AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
            AND NOT EXISTS (SELECT FROM pg_type o WHERE o.typarray = t.oid)
            AND {IN_SCOPE} AND {}",
        acl("t.typacl", "'T'", "t.typowner"),
        not_extension_member("pg_type", "t.oid"),
    )
}

/// Comments on anything in scope, named by `pg_identify_object` (which says what kind of
/// object and qualifies its name).
fn comments() -> &'static str {
    "SELECT format('comment on %s %s: %s', o.type, o.identity, d.description)
       FROM pg_description d, LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
      WHERE d.objoid >= 16384
        AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = d.classoid
                                                   AND e.objid = d.objoid AND e.deptype = 'e')
        AND coalesce(o.schema, '') NOT IN ('pg_catalog', 'information_schema', 'zdm')
        AND coalesce(o.schema, '') !~ '^pg_(toast|temp_|toast_temp_)'
        AND NOT (o.type = 'schema' AND o.identity = 'zdm')"
}

fn default_privileges() -> String {
    format!(
        "SELECT format('default privileges of %s in %s on %s: %s', pg_get_userbyid(d.defaclrole),
                coalesce(quote_ident(n.nspname), '*'), d.defaclobjtype, {})
           FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
          WHERE coalesce(n.nspname, '') <> 'zdm'",
        sorted("SELECT a::text AS x FROM unnest(d.defaclacl) a"),
    )
}

/// The schema-level kinds that have no line of their own above, by identity (and, where
/// PostgreSQL has a function for it, definition): collations, operators and their classes
/// and families, statistics objects, text search objects, conversions.
fn other_named_objects() -> Vec<String> {
    let by_identity = |catalog: &str, namespace: &str, detail: &str| {
        format!(
            "SELECT format('%s %s%s', o.type, o.identity, {detail})
               FROM {catalog} x JOIN pg_namespace n ON n.oid = x.{namespace},
                    LATERAL pg_identify_object('{catalog}'::regclass, x.oid, 0) o
              WHERE {IN_SCOPE} AND {}",
            not_extension_member(catalog, "x.oid"),
        )
    };
    vec![
        by_identity(
            "pg_collation",
            "collnamespace",
            "': ' || (to_jsonb(x) - 'oid' - 'collnamespace' - 'collowner' - 'collversion')::text",
        ),
        by_identity(
            "pg_operator",
            "oprnamespace",
            "format(': code=%s restrict=%s join=%s commutator=%s negator=%s merges=%s hashes=%s', \
             x.oprcode, x.oprrest, x.oprjoin, x.oprcom::regoperator, x.oprnegate::regoperator, \
             x.oprcanmerge, x.oprcanhash)",
        ),
        by_identity("pg_opclass", "opcnamespace", "''"),
        by_identity("pg_opfamily", "opfnamespace", "''"),
        by_identity(
            "pg_statistic_ext",
            "stxnamespace",
            "': ' || pg_get_statisticsobjdef(x.oid)",
        ),
        by_identity("pg_ts_config", "cfgnamespace", "''"),
        by_identity("pg_ts_dict", "dictnamespace", "''"),
        by_identity("pg_ts_parser", "prsnamespace", "''"),
        by_identity("pg_ts_template", "tmplnamespace", "''"),
        by_identity("pg_conversion", "connamespace", "''"),
    ]
}

/// Database-wide objects a schema file can make: casts, event triggers, publications.
fn database_objects() -> Vec<String> {
    vec![
        format!(
            "SELECT format('cast (%s AS %s) function=%s context=%s method=%s',
                    format_type(c.castsource, NULL), format_type(c.casttarget, NULL),
                    c.castfunc::regprocedure, c.castcontext, c.castmethod)
               FROM pg_cast c WHERE c.oid >= 16384 AND {}",
            not_extension_member("pg_cast", "c.oid"),
        ),
        "SELECT format('event trigger %I on %s: %s tags=%s enabled=%s', evtname, evtevent,
                evtfoid::regprocedure, evttags, evtenabled)
           FROM pg_event_trigger"
            .to_string(),
        "SELECT format('publication %I owner=%s: %s', p.pubname, pg_get_userbyid(p.pubowner),
                (to_jsonb(p) - 'oid' - 'pubowner')::text)
           FROM pg_publication p"
            .to_string(),
        "SELECT format('publication %I table: %s', t.pubname, (to_jsonb(t) - 'pubname')::text)
           FROM pg_publication_tables t"
            .to_string(),
    ]
}

fn pictures() -> Vec<String> {
    let mut all = vec![
        schemas(),
        extensions().to_string(),
        relations(),
        columns(),
        constraints().to_string(),
        indexes(),
        sequences().to_string(),
        views(),
        routines(),
        aggregates(),
        triggers(),
        policies(),
        rules().to_string(),
        types(),
        comments().to_string(),
        default_privileges(),
    ];
    all.extend(other_named_objects());
    all.extend(database_objects());
    all
}

/// The picture of the database `client` is connected to: sorted lines, one per object or
/// column. The session's `search_path` is emptied for the reading (names come out qualified)
/// and put back afterwards.
pub async fn catalog_dump(client: &Client) -> Result<String, String> {
    let message = |e: tokio_postgres::Error| zdm::shadow::db_message(&e);
    let saved: String = client
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .map_err(message)?
        .get(0);
    client
        .batch_execute("SET search_path = ''")
        .await
        .map_err(message)?;
    let mut lines = Vec::new();
    let mut failure = None;
    for query in pictures() {
        match client.query(query.as_str(), &[]).await {
            Ok(rows) => lines.extend(rows.iter().filter_map(|r| r.get::<_, Option<String>>(0))),
            Err(e) => {
                failure = Some(format!("{}\n{query}", message(e)));
                break;
            }
        }
    }
    client
        .execute("SELECT set_config('search_path', $1, false)", &[&saved])
        .await
        .map_err(message)?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    lines.sort();
    Ok(lines.join("\n"))
}

/// [`catalog_dump`] over a connection of its own to `conninfo`.
pub async fn catalog_dump_of(conninfo: &str) -> String {
    let target = zdm::connect::ConnectionTarget::parse(Some(conninfo))
        .unwrap_or_else(|e| panic!("catalog dump: {conninfo}: {e}"));
    let client = target
        .connect()
        .await
        .unwrap_or_else(|e| panic!("catalog dump: {e}"));
    catalog_dump(&client)
        .await
        .unwrap_or_else(|e| panic!("catalog dump: {e}"))
}
