//! Workflow, by topic: queues and pick-up, transfer, templates and canned replies, tags /
//! results / timeline and the block list, the contacts directory, escalation to a call (fake
//! AMI and Yeastar), reports on a known data set, and the workflow pages and API document.

mod calls;
mod contacts;
mod pages;
pub mod pbx_link;
mod queues;
mod reports;
mod tags_blocks;
mod templates;
mod transfer;
