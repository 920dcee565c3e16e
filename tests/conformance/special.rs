//! The special-fields pass: failures the kernel reports with an errno and no
//! log text. Cases that make the kernel WARN (duplicates across nesting
//! levels) are left out on purpose.

use super::suite::Suite;
use btfcheck::builder::{m, BtfBuilder, INT_SIGNED};

/// `struct bpf_spin_lock { u32 val; }` and friends, built on demand.
struct Special {
    u32_: u32,
    u64_: u32,
}

fn base(b: &mut BtfBuilder) -> Special {
    let u32_ = b.int("u32", 4, 32, 0);
    let u64_ = b.int("u64", 8, 64, 0);
    Special { u32_, u64_ }
}

fn lock(b: &mut BtfBuilder, sp: &Special) -> u32 {
    b.struct_("bpf_spin_lock", 4, &[m("val", sp.u32_, 0)])
}

fn sized(b: &mut BtfBuilder, sp: &Special, name: &str, words: u32) -> u32 {
    let a = b.array(sp.u64_, sp.u32_, words);
    b.struct_(name, words * 8, &[m("x", a, 0)])
}

fn kptr(b: &mut BtfBuilder, tag: &str, target: u32) -> u32 {
    let t = b.type_tag(tag, target);
    b.ptr(t)
}

pub fn special(s: &mut Suite) {
    s.group("special");
    s.b("lock_ok", "a struct with one spin lock", |b| {
        let sp = base(b);
        let l = lock(b, &sp);
        b.struct_("s", 8, &[m("a", sp.u32_, 0), m("l", l, 32)]);
    });
    s.b("lock_twice", "two spin locks at one level (E2BIG)", |b| {
        let sp = base(b);
        let l = lock(b, &sp);
        b.struct_("s", 8, &[m("a", l, 0), m("b", l, 32)]);
    });
    s.b(
        "lock_wrong_size",
        "a wrong-size bpf_spin_lock leaves no fields (EFAULT)",
        |b| {
            let sp = base(b);
            let l = b.struct_("bpf_spin_lock", 8, &[m("val", sp.u64_, 0)]);
            b.struct_("s", 8, &[m("l", l, 0)]);
        },
    );
    s.b(
        "lock_misaligned",
        "a misaligned lock is ignored, leaving no fields (EFAULT)",
        |b| {
            let sp = base(b);
            let l = lock(b, &sp);
            let c = b.int("char", 1, 8, INT_SIGNED);
            b.struct_("s", 8, &[m("c", c, 0), m("l", l, 16)]);
        },
    );
    s.b(
        "lock_array2",
        "an array of two locks in a struct parsed for its kptr (EINVAL)",
        |b| {
            let sp = base(b);
            let l = lock(b, &sp);
            let a = b.array(l, sp.u32_, 2);
            let t = b.struct_("F", 8, &[m("x", sp.u64_, 0)]);
            let p = kptr(b, "kptr_untrusted", t);
            b.struct_("s", 16, &[m("l", a, 0), m("p", p, 64)]);
        },
    );
    s.b("lock_array1", "an array of one lock is fine", |b| {
        let sp = base(b);
        let l = lock(b, &sp);
        let a = b.array(l, sp.u32_, 1);
        let t = b.struct_("F", 8, &[m("x", sp.u64_, 0)]);
        let p = kptr(b, "kptr_untrusted", t);
        b.struct_("s", 16, &[m("l", a, 0), m("p", p, 64)]);
    });
    s.b(
        "bitfield_member",
        "any member of a parsed struct off a byte boundary (EINVAL)",
        |b| {
            let sp = base(b);
            let l = lock(b, &sp);
            b.struct_("s", 12, &[m("l", l, 0), m("x", sp.u32_, 35)]);
        },
    );
    s.b(
        "list_head_no_tag",
        "bpf_list_head without a contains: tag (EINVAL)",
        |b| {
            let sp = base(b);
            let l = lock(b, &sp);
            let h = sized(b, &sp, "bpf_list_head", 2);
            b.struct_("s", 24, &[m("l", l, 0), m("h", h, 64)]);
        },
    );
    let graph = |b: &mut BtfBuilder, tag: &str, with_lock: bool, node_name: &str, node_type: &str| {
        let sp = base(b);
        let l = lock(b, &sp);
        let h = sized(b, &sp, "bpf_list_head", 2);
        let n = sized(b, &sp, node_type, 3);
        b.struct_("V", 24, &[m(node_name, n, 0)]);
        let st = if with_lock {
            b.struct_("S", 24, &[m("l", l, 0), m("h", h, 64)])
        } else {
            b.struct_("S", 16, &[m("h", h, 0)])
        };
        b.decl_tag(tag, st, if with_lock { 1 } else { 0 });
    };
    s.b("list_ok", "a list head with its value type", |b| {
        graph(b, "contains:V:n", true, "n", "bpf_list_node")
    });
    s.b(
        "list_value_missing",
        "contains: names a missing struct (ENOENT)",
        |b| graph(b, "contains:Nope:n", true, "n", "bpf_list_node"),
    );
    s.b(
        "list_node_missing",
        "contains: names a missing member (ENOENT)",
        |b| graph(b, "contains:V:zz", true, "n", "bpf_list_node"),
    );
    s.b(
        "list_node_not_node",
        "the member is not a bpf_list_node (EINVAL)",
        |b| graph(b, "contains:V:n", true, "n", "not_a_node"),
    );
    s.b("list_no_lock", "a list head without a lock (EINVAL)", |b| {
        graph(b, "contains:V:n", false, "n", "bpf_list_node")
    });
    s.b(
        "list_tag_no_colon",
        "contains: without a node name (EINVAL)",
        |b| graph(b, "contains:V", true, "n", "bpf_list_node"),
    );
    s.b(
        "list_tag_empty_node",
        "contains: with an empty node name (EINVAL)",
        |b| graph(b, "contains:V:", true, "n", "bpf_list_node"),
    );
    s.b("list_tag_twice", "two contains: tags (EINVAL)", |b| {
        graph(b, "contains:V:n", true, "n", "bpf_list_node");
        let st = b.next_id() - 2;
        b.decl_tag("contains:V:n", st, 1);
    });
    s.b(
        "nodes_need_refcount",
        "list and rb nodes without a refcount (EINVAL)",
        |b| {
            let sp = base(b);
            let ln = sized(b, &sp, "bpf_list_node", 3);
            let rn = sized(b, &sp, "bpf_rb_node", 4);
            b.struct_("s", 56, &[m("a", ln, 0), m("b", rn, 192)]);
        },
    );
    s.b("nodes_with_refcount", "list and rb nodes with a refcount", |b| {
        let sp = base(b);
        let ln = sized(b, &sp, "bpf_list_node", 3);
        let rn = sized(b, &sp, "bpf_rb_node", 4);
        let rc = b.struct_("bpf_refcount", 4, &[m("r", sp.u32_, 0)]);
        b.struct_("s", 64, &[m("a", ln, 0), m("b", rn, 192), m("c", rc, 448)]);
    });
    s.b(
        "ownership_cycle",
        "a struct owning a list of itself (ELOOP)",
        |b| {
            let sp = base(b);
            let l = lock(b, &sp);
            let h = sized(b, &sp, "bpf_list_head", 2);
            let n = sized(b, &sp, "bpf_list_node", 3);
            let st = b.struct_("S", 48, &[m("n", n, 0), m("l", l, 192), m("h", h, 256)]);
            b.decl_tag("contains:S:n", st, 2);
        },
    );
    s.b("kptr_local", "a kptr to a program-local struct", |b| {
        let sp = base(b);
        let t = b.struct_("zz_local_obj", 8, &[m("x", sp.u64_, 0)]);
        let p = kptr(b, "kptr", t);
        b.struct_("s", 8, &[m("p", p, 0)]);
    });
    s.b(
        "kptr_non_struct",
        "a kptr to an int in a parsed struct (EINVAL)",
        |b| {
            let sp = base(b);
            let l = lock(b, &sp);
            let p = kptr(b, "kptr", sp.u64_);
            b.struct_("s", 16, &[m("l", l, 0), m("p", p, 64)]);
        },
    );
    s.b(
        "kptr_unknown_tag",
        "an unknown tag on a pointer in a parsed struct (EINVAL)",
        |b| {
            let sp = base(b);
            let l = lock(b, &sp);
            let t = b.struct_("F", 8, &[m("x", sp.u64_, 0)]);
            let p = kptr(b, "foo", t);
            b.struct_("s", 16, &[m("l", l, 0), m("p", p, 64)]);
        },
    );
    s.b(
        "kptr_chained_tags",
        "kptr tag followed by another tag (EINVAL)",
        |b| {
            let sp = base(b);
            let l = lock(b, &sp);
            let t = b.struct_("F", 8, &[m("x", sp.u64_, 0)]);
            let inner = b.type_tag("kptr", t);
            let p = kptr(b, "kptr", inner);
            b.struct_("s", 16, &[m("l", l, 0), m("p", p, 64)]);
        },
    );
    s.b("kptr_overlap", "two kptrs at the same offset (EEXIST)", |b| {
        let sp = base(b);
        let t = b.struct_("F", 8, &[m("x", sp.u64_, 0)]);
        let p = kptr(b, "kptr", t);
        b.struct_("s", 8, &[m("a", p, 0), m("b", p, 0)]);
    });
    for n in [11u32, 12] {
        s.b(format!("kptr_count_{n}"), "at most 11 special fields", |b| {
            let sp = base(b);
            let t = b.struct_("F", 8, &[m("x", sp.u64_, 0)]);
            let p = kptr(b, "kptr", t);
            let names: Vec<String> = (0..n).map(|k| format!("p{k}")).collect();
            let ms: Vec<_> = names
                .iter()
                .enumerate()
                .map(|(k, nm)| m(nm, p, 64 * k as u32))
                .collect();
            b.struct_("s", 8 * n, &ms);
        });
    }
    s.b("uptr_ignored", "uptr tags are not parsed here", |b| {
        let sp = base(b);
        let l = lock(b, &sp);
        let t = b.struct_("F", 8, &[m("x", sp.u64_, 0)]);
        let p = kptr(b, "uptr", t);
        b.struct_("s", 16, &[m("l", l, 0), m("p", p, 64)]);
    });
    s.b("union_not_parsed", "unions are never parsed", |b| {
        let sp = base(b);
        let l = lock(b, &sp);
        b.union_("u", 4, &[m("a", l, 0), m("b", l, 0)]);
    });
    s.b(
        "kptr_file",
        "a referenced kptr to struct file: no destructor (ENOENT; depends on the kernel)",
        |b| {
            let sp = base(b);
            let t = b.struct_("file", 8, &[m("x", sp.u64_, 0)]);
            let p = kptr(b, "kptr", t);
            b.struct_("s", 8, &[m("p", p, 0)]);
        },
    );
    s.b(
        "kptr_task_struct",
        "a referenced kptr to task_struct (destructor registered)",
        |b| {
            let sp = base(b);
            let t = b.struct_("task_struct", 8, &[m("x", sp.u64_, 0)]);
            let p = kptr(b, "kptr", t);
            b.struct_("s", 8, &[m("p", p, 0)]);
        },
    );
    s.b(
        "kptr_untrusted_file",
        "an untrusted kptr to struct file needs no destructor",
        |b| {
            let sp = base(b);
            let t = b.struct_("file", 8, &[m("x", sp.u64_, 0)]);
            let p = kptr(b, "kptr_untrusted", t);
            b.struct_("s", 8, &[m("p", p, 0)]);
        },
    );
}
