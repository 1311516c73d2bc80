//! The `pgs` command: everything it does is in the library ([`pgs`]); this only hands over.

fn main() {
    pgs::cli::main()
}
