/// The Payments service (wallet, pay, refund on compensation) arrives with the saga issue.
public enum Payments {}
