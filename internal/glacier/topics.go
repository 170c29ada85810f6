package glacier

import (
	"slices"
	"strings"
)

// topicAccount returns the account id in an SNS topic ARN
// (arn:<partition>:sns:<region>:<account>:<topic>), "" if it has none.
func topicAccount(topic string) string {
	parts := strings.SplitN(topic, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[4]
}

// TopicUsableBy reports whether vaults and jobs of accountID may send to
// topic: a topic belongs to the account in its ARN, and only the operator
// can let other accounts use it (TopicAccounts, from --sns-topics-file).
// Without this, any account could make the server deliver its messages to
// another account's endpoint.
func (s *Service) TopicUsableBy(topic, accountID string) bool {
	return topicAccount(topic) == accountID || slices.Contains(s.TopicAccounts[topic], accountID)
}

// checkTopicAccount is TopicUsableBy as the error a request gets.
func (s *Service) checkTopicAccount(field, topic, accountID string) error {
	if s.TopicUsableBy(topic, accountID) {
		return nil
	}
	return Errorf(KindInvalidParameter, "Invalid %s: topic %s belongs to account %s, and account %s may not use it: a topic can only be used by vaults and jobs of its own account unless the server's operator allows others", field, topic, topicAccount(topic), accountID)
}
