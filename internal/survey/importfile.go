package survey

import (
	"context"
	"os"
)

// ImportAnswersFile imports answers from the CSV file at path (one the
// person picked); see ImportAnswers.
func (s *Service) ImportAnswersFile(ctx context.Context, actor string, surveyID int64, path, encoding string) (ImportResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return ImportResult{}, err
	}
	defer f.Close()
	return s.ImportAnswers(ctx, actor, surveyID, f, encoding)
}
