//! Prints the state diagram, the rules table and the answer table that `docs/` shows:
//! `cargo run -p auth-core --example print_tables`.
fn main() {
    println!("{}", auth_core::state_diagram());
    println!("{}", auth_core::rules_table());
    println!("{}", auth_core::answer_table());
}
