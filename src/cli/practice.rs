//! `netcheck practice`'s flags.

use crate::practice::PracticeTopic;
use crate::render::Format;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TopicArg {
    Cidrs,
    Proxy,
    Daemonsets,
    Services,
}

impl From<TopicArg> for PracticeTopic {
    fn from(t: TopicArg) -> PracticeTopic {
        match t {
            TopicArg::Cidrs => PracticeTopic::Cidrs,
            TopicArg::Proxy => PracticeTopic::Proxy,
            TopicArg::Daemonsets => PracticeTopic::Daemonsets,
            TopicArg::Services => PracticeTopic::Services,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct PracticeArgs {
    /// Before each question, show the first command that finds the answer (or type '?')
    #[arg(long)]
    pub hint: bool,
    /// Ask at most N questions
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub questions: Option<u32>,
    /// Shuffle with this seed, for a repeatable set (default: a new seed each run, printed)
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Only questions of these topics (repeatable or comma-separated)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "TOPIC")]
    pub topic: Vec<TopicArg>,
    /// Judge the answers of this YAML file (question id: answer) and exit 0 when all are right
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// With --answers or -o: show the expected answers and the commands that find them
    #[arg(long)]
    pub reveal: bool,
    /// Output format of the non-interactive mode (-o json lists the questions)
    #[arg(short, long, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
}
